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
* **A kernel is never asked to shut down in the middle of a computation.** A kernel asked
  to shut down while it executes (a pool kernel still running the notebook when the server
  gets SIGTERM, a page's kernel recomputing when its tab closes) closes its sockets under
  the running request and prints a ``ZMQError`` traceback when the request ends. So a busy
  kernel is first interrupted and shut down once idle; one still busy after
  :attr:`~PageKernelManager.interrupt_grace` seconds is stopped at once (its process group
  killed), which prints nothing either. Stopping the server with SIGTERM or Ctrl+C therefore
  prints no traceback.

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

    interrupt_grace = Float(
        5.0, config=True,
        help="Seconds a busy kernel has to become idle after an interrupt before it is shut "
             "down; one still busy then is stopped at once.")

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

    async def shutdown_kernel(self, kernel_id: str, now: bool = False, restart: bool = False):
        """Shut a kernel down and forget what this manager knew about it. A busy kernel is
        interrupted first and shut down once idle, or stopped at once (``now``) when it is
        still busy after :attr:`interrupt_grace` seconds (:meth:`settle`)."""
        timer = self._pending.pop(kernel_id, None)
        if timer is not None:
            timer.cancel()
        self._had_page.discard(kernel_id)
        self._unconnected_since.pop(kernel_id, None)
        self._last_seen.pop(kernel_id, None)
        self._warming.pop(kernel_id, None)
        if not now and not restart:
            now = not await self.settle(kernel_id)
        return await self._async_shutdown_kernel(kernel_id, now=now, restart=restart)

    async def _async_shutdown_kernel(self, kernel_id: str, now: bool = False,
                                     restart: bool = False):
        """jupyter_server's shutdown of one kernel, for a kernel that may have ended
        meanwhile. A kernel that is not (or no longer) running but pending — still starting,
        or being removed by another shutdown — when the server stops is listed by
        ``shutdown_all`` and made the whole shutdown fail with ``HTTP 404: Kernel does not
        exist`` (exit status 1). Its pending start or removal is awaited instead; a kernel
        gone by then has nothing left to shut down."""
        if kernel_id not in self:
            pending = self._pending_kernels.get(kernel_id)
            if pending is not None:
                try:
                    await pending
                except BaseException:  # noqa: BLE001 - a start that failed or was cancelled
                    pass
            if kernel_id not in self:
                self.log.info("Kernel %s ended before its shutdown", kernel_id)
                self._pending_kernels.pop(kernel_id, None)
                return None
        return await super()._async_shutdown_kernel(kernel_id, now=now, restart=restart)

    async def settle(self, kernel_id: str) -> bool:
        """Bring a kernel to rest before it is asked to shut down: interrupt it when it is
        executing, then wait up to :attr:`interrupt_grace` seconds for it to answer a
        ``kernel_info_request`` on its shell channel, which it does only once the requests
        before it (the interrupted one included) have finished and been answered.

        Returns True when the kernel is at rest (or was never seen executing and answers),
        False when it does not answer in time: a shutdown request would then close its
        sockets under a running request. The answer is awaited on a client of its own: when
        the server stops, Voila runs the shutdown on a fresh event loop, where the state the
        server watched (``execution_state``) is no longer updated."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None:
            return True
        if getattr(kernel, "execution_state", None) == "busy":
            self.log.info("Kernel %s is busy: interrupting it before its shutdown", kernel_id)
            try:
                result = kernel.interrupt_kernel()
                if asyncio.iscoroutine(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - e.g. a kernel still starting
                self.log.info("Kernel %s could not be interrupted (%s)", kernel_id, exc)
                return False
        client = kernel.client()
        try:
            client.start_channels(shell=True, iopub=False, stdin=False, hb=False,
                                  control=False)
            msg_id = client.kernel_info()
            deadline = time.monotonic() + self.interrupt_grace
            while True:
                reply = await client.get_shell_msg(
                    timeout=max(deadline - time.monotonic(), 0.01))
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
        except Exception:  # noqa: BLE001 - no answer in time (queue.Empty), or no channel
            self.log.info("Kernel %s did not come to rest within %.0f s: stopping it at once",
                          kernel_id, self.interrupt_grace)
            return False
        finally:
            client.stop_channels()

    async def shutdown_all(self, now: bool = False):
        """Shut every kernel down (each as :meth:`shutdown_kernel` does: a busy kernel is
        interrupted first); kernels waiting for their turn to start never start."""
        self._closing = True
        if not now:
            kernel_ids = list(self.list_kernel_ids())
            settled = await asyncio.gather(*(self.settle(k) for k in kernel_ids))
            for kernel_id, idle in zip(kernel_ids, settled):
                if not idle and kernel_id in self:
                    await self.shutdown_kernel(kernel_id, now=True)
        return await super().shutdown_all(now=now)
