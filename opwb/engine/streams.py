"""Counter-based random numbers keyed to what they describe (an event, an insurer-year).

Insurance draws — whether an event falls within a policy's wording, whether its claim is
paid late, whether an insurer defaults in a year — must stay attached to the event or the
year they describe, so that the same seed gives the same numbers however many events were
stored, in which order the cells were listed, or how the work was chunked. A positional
stream (the k-th draw of a generator) breaks that: it shifts when one more event is stored.

:func:`event_uniforms` therefore computes each draw from its key alone: SplitMix64
(Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA; the
mixing function of Vigna's ``splitmix64.c``) applied to ``id · φ + k``, with ``φ`` the
64-bit golden-ratio increment and ``k`` a 64-bit key hashed (BLAKE2b) from the seed, the
purpose and the name. That is SplitMix64's own output sequence, started at the key: the
draws of consecutive ids are successive SplitMix64 outputs.

Examples
--------
>>> u = event_uniforms(7, "cover", "IF", np.array([0, 1, 2, 2]))
>>> bool(u[2] == u[3]) and bool(((0 <= u) & (u < 1)).all())
True
>>> float(event_uniforms(7, "cover", "IF", np.array([1]))[0]) == float(u[1])
True
"""
from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["event_uniforms", "keyed_uniforms", "stream_key"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def stream_key(seed: int, purpose: str, name: str) -> np.uint64:
    """The 64-bit key of (seed, purpose, name): BLAKE2b of their text."""
    digest = hashlib.blake2b(f"{int(seed)}|{purpose}|{name}".encode("utf-8"),
                             digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def event_uniforms(seed: int, purpose: str, name: str, ids) -> np.ndarray:
    """Uniform draws in [0, 1), one per id, each a function of (seed, purpose, name, id) only.

    Parameters
    ----------
    seed : int
        The simulation's root seed.
    purpose : str
        What the draw decides (``"cover"``, ``"delay"``, ``"default"``, ``"time"``, ...).
    name : str
        The cell (``"IF"``) or insurer the draws belong to.
    ids : array_like of int
        Event ids (:attr:`opwb.engine.simulate.CellEvents.event_id`) or year indices.

    Returns
    -------
    ndarray of float64, shape of ``ids``
        53-bit uniforms.
    """
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    return _uniforms(x * _GOLDEN + stream_key(seed, purpose, name))


def _uniforms(z: np.ndarray) -> np.ndarray:
    """SplitMix64's mixing of the states ``z`` (uint64), as 53-bit uniforms in [0, 1)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def keyed_uniforms(keys, ids) -> np.ndarray:
    """Uniforms for every (id, key) pair: shape ``(len(ids), len(keys))``, entry ``[i, b]``
    the draw :func:`event_uniforms` gives id ``ids[i]`` under the key ``keys[b]`` (from
    :func:`stream_key`) — e.g. one key per bootstrap replicate, one id per simulated year.

    >>> k = np.array([stream_key(1, "bootstrap", str(b)) for b in range(3)])
    >>> u = keyed_uniforms(k, [5, 9])
    >>> bool(u[1, 2] == event_uniforms(1, "bootstrap", "2", [9])[0])
    True
    """
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    k = np.asarray(keys, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = x[:, None] * _GOLDEN + k[None, :]
    return _uniforms(z)
