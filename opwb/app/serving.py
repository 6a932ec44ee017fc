"""Which kernels the app's Voila server keeps: a page's kernel stops soon after the page goes.

Voila starts one kernel per page and, left to itself, keeps it until the idle-kernel culler
takes it (the app used to keep each ~0.7 GB kernel 15 minutes after its tab closed).
:class:`PageKernelManager` is the server's kernel manager (``python3 workbench.py app``
passes ``--VoilaConfiguration.multi_kernel_manager_class=opwb.app.serving.PageKernelManager``;
Voila wraps it in its pool of pre-executed kernels):

* **A page's kernel stops when its page goes away.** The page itself asks for it on
  ``beforeunload`` (Voila's widget manager; the opwb template gives it the cookie it needs).
  Whatever the page manages to send, when the last websocket of a kernel that had a page
  closes (tab closed, reload, navigation, crashed browser), the kernel is shut down after
  :attr:`~PageKernelManager.page_close_grace` seconds unless a connection came back (the
  page's own reconnect after a network glitch).
* **A kernel handed to a page is not culled before the page connects**, and one whose page
  never connects (closed while loading) is stopped. Pre-executed pool kernels sit idle, so
  the idle culler would see one just handed to a page as long idle; instead such a kernel
  is shut down only once the culler has seen it unconnected and idle for
  :attr:`~PageKernelManager.connect_grace` seconds.
* **Kernels warm up a few at a time.** A new kernel starts only while fewer than
  :attr:`~PageKernelManager.max_warming` kernels (default: one less than the CPU count, at
  least one) are still executing the notebook without a page. Kernels executing side by
  side share the CPU and all finish late; one after another, the first replacement for a
  used pool kernel is ready after one execution, and a core stays free for the pages in use.
* Kernels waiting in Voila's pool are never culled (Voila's own rule); the idle culler
  (``cull_idle_timeout``, ``cull_interval``) remains the safety net for any other kernel
  without a connection. Kernels of open pages are never culled (``cull_connected`` False).

Runs in the Voila server process, never in a kernel; it imports jupyter_server, nothing
from opwb.
"""
from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Int, default

__all__ = ["PageKernelManager"]


class PageKernelManager(AsyncMappingKernelManager):
    """Kernel manager of the app's server: stops a page's kernel when its page goes away.

    Attributes
    ----------
    page_close_grace : float
        Seconds between the last connection of a page's kernel closing and the kernel's
        shutdown (default 10; a reconnect within it keeps the kernel).
    connect_grace : float
        Seconds the culler leaves a kernel no page has connected to yet before shutting it
        down (default 60).
    max_warming : int
        Kernels that may execute the notebook at the same time before any page uses them.
    warm_quiet : float
        Seconds without activity after which a kernel counts as done executing (default 3).
    warm_timeout : float
        Seconds after which a kernel stops counting as warming whatever it does (default 180).
    """

    page_close_grace = Float(
        10.0, config=True,
        help="Seconds after a page's last kernel connection closes before its kernel is shut "
             "down (a reconnect within this time keeps it).")
    connect_grace = Float(
        60.0, config=True,
        help="Seconds the culler leaves a kernel handed to a page that has not connected "
             "yet; after that, idle and still unconnected, it is shut down.")

    max_warming = Int(
        config=True,
        help="Kernels that may execute the notebook at once before a page uses them (default: "
             "one less than the number of CPUs, at least 1).")
    warm_quiet = Float(
        3.0, config=True,
        help="Seconds without kernel activity after which a warming kernel counts as done.")
    warm_timeout = Float(
        180.0, config=True,
        help="Seconds after which a kernel no longer counts as warming, whatever it does.")

    @default("max_warming")
    def _default_max_warming(self) -> int:
        return max(1, (os.cpu_count() or 1) - 1)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._had_page: set[str] = set()
        self._unconnected_since: dict[str, float] = {}
        self._last_seen: dict[str, float] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._warming: dict[str, float] = {}
        self._start_lock = asyncio.Lock()
        self._closing = False

    # ------------------------------------------------------------------ warming up in turn
    def _still_warming(self, kernel_id: str, started: float) -> bool:
        if kernel_id not in self or kernel_id in self._had_page:
            return False
        now = time.monotonic()
        if now - started > self.warm_timeout:
            return False
        if now - started < self.warm_quiet:
            return True
        kernel = self._kernels[kernel_id]
        last = getattr(kernel, "last_activity", None)
        if getattr(kernel, "execution_state", None) != "idle" or last is None:
            return True
        return (datetime.now(timezone.utc) - last).total_seconds() < self.warm_quiet

    async def start_kernel(self, *args, **kwargs) -> str:
        """Start a kernel once fewer than :attr:`max_warming` kernels are still executing
        the notebook without a page. A kernel Voila starts for a page that found no ready
        kernel in the pool (its environment says ``VOILA_PREHEAT=False``) starts at once: a
        visitor never waits behind the pool's warm-up."""
        if (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "False":
            if self._closing:
                raise RuntimeError("the server is shutting down: no new kernels")
            return await super().start_kernel(*args, **kwargs)
        async with self._start_lock:
            while True:
                if self._closing:
                    raise RuntimeError("the server is shutting down: no new kernels")
                self._warming = {k: t for k, t in self._warming.items()
                                 if self._still_warming(k, t)}
                if len(self._warming) < self.max_warming:
                    break
                await asyncio.sleep(0.25)
            kernel_id = await super().start_kernel(*args, **kwargs)
            self._warming[kernel_id] = time.monotonic()
            return kernel_id

    def notify_connect(self, kernel_id: str) -> None:
        """A websocket connected: the kernel has a page."""
        super().notify_connect(kernel_id)
        self._had_page.add(kernel_id)
        self._unconnected_since.pop(kernel_id, None)
        timer = self._pending.pop(kernel_id, None)
        if timer is not None:
            timer.cancel()

    def notify_disconnect(self, kernel_id: str) -> None:
        """A websocket closed: when it was the page's last, shut the kernel down after
        :attr:`page_close_grace` seconds unless the page reconnects."""
        super().notify_disconnect(kernel_id)
        if self._kernel_connections.get(kernel_id, 0) > 0 or kernel_id not in self._had_page:
            return
        old = self._pending.pop(kernel_id, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()  # called from the server's handlers, on its loop
        self._pending[kernel_id] = loop.call_later(
            self.page_close_grace,
            lambda: asyncio.ensure_future(self._stop_if_pageless(kernel_id)))

    async def _stop_if_pageless(self, kernel_id: str) -> None:
        self._pending.pop(kernel_id, None)
        if kernel_id not in self or self._kernel_connections.get(kernel_id, 0) > 0:
            return
        self.log.info("Kernel %s: its page went away; shutting it down", kernel_id)
        try:
            await self.shutdown_kernel(kernel_id)
        except (KeyError, RuntimeError):  # already gone
            pass

    async def cull_kernel_if_idle(self, kernel_id: str):
        """Cull as usual a kernel that has had a page. A kernel no page has connected to
        (handed to a page that is still loading, or that was closed before it loaded) is
        shut down once the culler has seen it for :attr:`connect_grace` seconds, idle and
        unconnected; never earlier, so a pre-executed kernel just handed to a page (idle
        for long, by design) is not taken before its page connects."""
        if kernel_id in self._had_page:
            return await super().cull_kernel_if_idle(kernel_id)
        now = time.monotonic()
        kernel = self._kernels.get(kernel_id)
        last = self._last_seen.get(kernel_id)
        self._last_seen[kernel_id] = now
        busy = getattr(kernel, "execution_state", None) == "busy"
        # Kernels in Voila's pool never reach this method: one seen again after a gap
        # has just left the pool (handed to a page), and the clock starts now.
        if busy or last is None or now - last > 1.5 * self.cull_interval:
            self._unconnected_since[kernel_id] = now
        since = self._unconnected_since.setdefault(kernel_id, now)
        if (kernel is None or busy or now - since < self.connect_grace
                or self._kernel_connections.get(kernel_id, 0) > 0):
            return None
        self.log.info("Kernel %s: its page never connected (%.0f s); shutting it down",
                      kernel_id, now - since)
        await self.shutdown_kernel(kernel_id)
        return None

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):
        """Shut a kernel down and forget what this manager knew about it."""
        timer = self._pending.pop(kernel_id, None)
        if timer is not None:
            timer.cancel()
        self._had_page.discard(kernel_id)
        self._unconnected_since.pop(kernel_id, None)
        self._last_seen.pop(kernel_id, None)
        self._warming.pop(kernel_id, None)
        return await super().shutdown_kernel(kernel_id, *args, **kwargs)

    async def shutdown_all(self, *args, **kwargs):
        """Shut every kernel down; kernels waiting for their turn to start never start."""
        self._closing = True
        return await super().shutdown_all(*args, **kwargs)
