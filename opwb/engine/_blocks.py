"""The Monte Carlo kernel: one work unit (a cell's blocks of years) from its random streams.

A work unit (:class:`ChunkTask`) is blocks ``first .. last - 1`` of one cell. Block ``b`` of
the cell named ``cell`` draws from ``SeedSequence(seed, spawn_key=(cell_key(cell), b))``,
so its numbers do not depend on which unit, thread, process or machine runs it.

Within a unit every block draws its annual counts and its uniforms from its own stream;
the severity's inverse survival function, the annual sums and the kept events are then
computed once over the whole unit (the per-block Python work is three generator calls).

Counts are drawn with the generator itself (:class:`CountSampler`), not through a frozen
scipy distribution: ``Generator.poisson(mu, n)`` and ``Generator.negative_binomial(r, p, n)``
are exactly what scipy's ``poisson.rvs`` and ``nbinom.rvs`` call, so the numbers are the
same. A Poisson cell with fewer than :data:`SPARSE_MEAN` losses a year draws a block's
events at once instead: ``N ~ Poisson(mu · BLOCK_YEARS)``, then each event's year uniform
among the block's years (``Generator.integers(0, BLOCK_YEARS, N, dtype=int16)``), then
its uniform for the severity — the same law (independent Poisson(mu) counts per year;
Kingman 1993, *Poisson Processes*, §2.4: a Poisson process restricted to disjoint years),
with no per-year random draw; annual sums are ``bincount`` over the events' years, and
the kept events are put in year order (stable, so within a year in draw order).
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["BLOCK_YEARS", "SPARSE_MEAN", "CountSampler", "count_sampler", "ChunkTask",
           "ChunkResult", "run_chunk", "cell_key", "block_rng", "block_states",
           "block_generators"]

BLOCK_YEARS = 2000
"""Years per random-stream block (fixed: changing it changes every simulated number)."""

SPARSE_MEAN = 10.0
"""Poisson cells with a mean annual count below this draw a block's events at once."""


def cell_key(name: str) -> int:
    """The 64-bit stream key of a cell: BLAKE2b of its name."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(),
                          "little")


def block_rng(seed: int, key: int, block: int) -> np.random.Generator:
    """The generator of block ``block`` of the cell with stream key ``key``:
    ``PCG64(SeedSequence(seed, spawn_key=(key, block)))``."""
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed, spawn_key=(key, block))))


# SeedSequence for many blocks at once. numpy's SeedSequence (O'Neill's seed_seq_fe: the
# entropy words are hashed into a pool of four 32-bit words, then the pool is hashed into
# the state) costs ~10 µs a block in Python; the words of (seed, key) are the same for every
# block of a cell, so they are mixed once (Python integers) and only the block's own word
# is mixed per block (numpy, all blocks of a unit together). The result is bit-identical to
# numpy's (pinned by tests/engine/test_blocks.py against numpy.random.SeedSequence).
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words(n: int) -> list[int]:
    """numpy's ``_int_to_uint32_array``: little-endian 32-bit words ([0] for 0)."""
    out = []
    while n > 0:
        out.append(n & _M32)
        n >>= 32
    return out or [0]


@functools.lru_cache(maxsize=4096)
def _prefix_pool(seed: int, key: int) -> tuple[tuple[int, ...], int]:
    """The pool after mixing every entropy word but the block's, and the hash constant."""
    run = _words(seed)
    run += [0] * (4 - len(run))                     # spawn_key given: pad to the pool size
    entropy = run + _words(key)
    h = _INIT_A

    def hashmix(v: int) -> int:
        nonlocal h
        v ^= h
        h = (h * _MULT_A) & _M32
        v = (v * h) & _M32
        return v ^ (v >> 16)

    def mix(x: int, y: int) -> int:
        r = (_MIX_L * x - _MIX_R * y) & _M32
        return r ^ (r >> 16)

    pool = [hashmix(entropy[i]) for i in range(4)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for word in entropy[4:]:
        for dst in range(4):
            pool[dst] = mix(pool[dst], hashmix(word))
    return tuple(pool), h


def block_states(seed: int, key: int, first: int, last: int) -> np.ndarray:
    """``SeedSequence(seed, spawn_key=(key, b)).generate_state(4, uint64)`` for blocks
    ``first .. last - 1`` (shape ``(last - first, 4)``)."""
    if not 0 <= first <= last <= 2 ** 32:
        raise ValueError(f"blocks {first}..{last} outside 0..2**32")
    pool, h = _prefix_pool(int(seed), int(key))
    block = np.arange(first, last, dtype=np.uint32)
    u32 = np.uint32
    mixed = []
    for dst in range(4):
        v = block ^ u32(h)
        h = (h * _MULT_A) & _M32
        v = v * u32(h)
        v ^= v >> u32(16)
        r = u32((pool[dst] * _MIX_L) & _M32) - v * u32(_MIX_R)
        mixed.append(r ^ (r >> u32(16)))
    out = np.empty((block.size, 8), dtype=np.uint32)
    hb = _INIT_B
    for i in range(8):
        v = mixed[i % 4] ^ u32(hb)
        hb = (hb * _MULT_B) & _M32
        v = v * u32(hb)
        out[:, i] = v ^ (v >> u32(16))
    return out.astype("<u4", copy=False).view("<u8")


class _FixedSeed(ISeedSequence):
    """A seed sequence whose state is already computed (by :func:`block_states`)."""

    __slots__ = ("state",)

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("a fixed block seed gives PCG64's four 64-bit words only")
        return np.array(self.state, dtype=np.uint64)


def block_generators(seed: int, key: int, first: int, last: int):
    """The generators of blocks ``first .. last - 1`` (same as :func:`block_rng`)."""
    for row in block_states(seed, key, first, last):
        yield np.random.Generator(np.random.PCG64(_FixedSeed(row)))


# --------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class CountSampler:
    """Annual counts of one cell for a block of :data:`BLOCK_YEARS` years.

    ``kind``: ``"poisson"`` (``args = (mu,)``, one draw a year), ``"poisson_sparse"``
    (``args = (mu,)``, the block's events at once), ``"nbinom"`` (``args = (r, p)``) or
    ``"scipy"`` (``dist.rvs`` of any other frozen discrete distribution).
    """

    kind: str
    args: tuple = ()
    dist: Any = None

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Counts of the block's years (int64, length :data:`BLOCK_YEARS`)."""
        if self.kind == "poisson_sparse":
            n = rng.poisson(self.args[0] * BLOCK_YEARS)
            years = rng.integers(0, BLOCK_YEARS, n, dtype=np.int16)
            return np.bincount(years, minlength=BLOCK_YEARS)
        if self.kind == "poisson":
            return rng.poisson(self.args[0], BLOCK_YEARS)
        if self.kind == "nbinom":
            return rng.negative_binomial(self.args[0], self.args[1], BLOCK_YEARS)
        return np.asarray(self.dist.rvs(size=BLOCK_YEARS, random_state=rng), dtype=np.int64)


def count_sampler(dist: Any) -> CountSampler:
    """The :class:`CountSampler` of a frozen scipy discrete distribution."""
    name = getattr(getattr(dist, "dist", None), "name", "")
    if name in ("poisson", "nbinom"):
        try:
            shapes, loc = dist.dist._parse_args(*dist.args, **dist.kwds)[:2]
        except Exception:  # pragma: no cover - depends on scipy internals
            return CountSampler("scipy", (), dist)
        shapes = tuple(float(np.asarray(s)) for s in shapes)
        if float(np.asarray(loc)) == 0.0 and all(np.isfinite(shapes)):
            if name == "nbinom":
                return CountSampler("nbinom", shapes)
            kind = "poisson_sparse" if shapes[0] < SPARSE_MEAN else "poisson"
            return CountSampler(kind, shapes)
    return CountSampler("scipy", (), dist)


# --------------------------------------------------------------------------- work units
@dataclass(frozen=True)
class ChunkTask:
    """Years ``start .. stop - 1`` of cell ``cell`` (a work unit).

    A unit is any run of years: whole blocks, or part of one block or two -- the numbers
    do not depend on it. A dense cell's unit draws each block's counts (all of the block's
    years: the block's stream starts with them), skips the uniforms of the block's events
    before ``start`` (``PCG64.advance``: one 64-bit output per double, so skipping is exact)
    and draws only its own events' uniforms. A sparse Poisson cell's unit must start at a
    block's first year (its events' years are drawn at random within the block).

    ``severity`` has vectorised ``isf``; ``s_h`` is its survival at the threshold; events
    with loss strictly above ``keep_above`` are returned with their year and id.
    """

    cell: str
    counts: CountSampler
    severity: Any
    s_h: float
    seed: int
    start: int
    stop: int
    keep_above: float

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.stop:
            raise ValueError(f"a work unit needs 0 <= start < stop, got {self.start}, "
                             f"{self.stop}")
        if self.counts.kind == "poisson_sparse" and self.start % BLOCK_YEARS:
            raise ValueError(f"a sparse Poisson cell's unit must start at a block "
                             f"(a multiple of {BLOCK_YEARS} years), got {self.start}")

    @property
    def first(self) -> int:
        """First block the unit touches."""
        return self.start // BLOCK_YEARS

    @property
    def last(self) -> int:
        """One past the last block the unit touches."""
        return -(-self.stop // BLOCK_YEARS)


@dataclass(frozen=True)
class ChunkResult:
    """What a :class:`ChunkTask` returns: years ``start`` onward (one value per year)."""

    cell: str
    start: int
    counts: np.ndarray      # int32, one per year
    sums: np.ndarray        # float64, one per year
    year: np.ndarray        # int64, kept events
    loss: np.ndarray        # float64, kept events
    event_id: np.ndarray    # int64, kept events: block × 2³² + position in the block

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.counts, self.sums, self.year, self.loss,
                                      self.event_id))


def _dense_draws(task: ChunkTask) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counts of the unit's years, uniforms of their events (in year order, one array
    filled block by block), and per block the position of its first drawn event in that
    array and the number of the block's events skipped before it (its events before
    ``start``)."""
    counts, rngs, skips, sizes = [], [], [], []
    gens = block_generators(task.seed, cell_key(task.cell), task.first, task.last)
    for b, rng in zip(range(task.first, task.last), gens):
        c = task.counts.draw(rng)
        y0 = max(task.start - b * BLOCK_YEARS, 0)
        y1 = min(task.stop - b * BLOCK_YEARS, BLOCK_YEARS)
        skip = int(c[:y0].sum())
        if skip:
            rng.bit_generator.advance(skip)
        counts.append(c[y0:y1])
        rngs.append(rng)
        skips.append(skip)
        sizes.append(int(c[y0:y1].sum()))
    starts = _starts(sizes)
    q = np.empty(int(sum(sizes)))
    for rng, s, size in zip(rngs, starts, sizes):
        rng.random(out=q[s:s + size])
    return np.concatenate(counts), q, starts, np.asarray(skips, dtype=np.int64)


def _sparse_draws(task: ChunkTask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year (within the unit) and uniform of every event (in draw order), each block's
    first event: a Poisson block's events drawn at once, no per-year draw."""
    mu = task.counts.args[0] * BLOCK_YEARS
    years, uniforms, per_block = [], [], []
    rngs = block_generators(task.seed, cell_key(task.cell), task.first, task.last)
    for i, rng in enumerate(rngs):
        n = int(rng.poisson(mu))
        y = rng.integers(0, BLOCK_YEARS, n, dtype=np.int16).astype(np.int32)
        if i:
            y += i * BLOCK_YEARS
        years.append(y)
        uniforms.append(rng.random(n))
        per_block.append(n)
    return np.concatenate(years), np.concatenate(uniforms), _starts(per_block)


def _starts(per_block: list[int]) -> np.ndarray:
    starts = np.zeros(len(per_block), dtype=np.int64)
    np.cumsum(per_block[:-1], out=starts[1:])
    return starts


def _losses(task: ChunkTask, q: np.ndarray) -> np.ndarray:
    np.subtract(1.0, q, out=q)              # in (0, 1]: never isf(0) = inf
    if task.s_h != 1.0:
        q *= task.s_h
    return np.asarray(task.severity.isf(q), dtype=float)


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Simulate one work unit (a pure function of the task: safe on any worker)."""
    n_unit = task.stop - task.start
    if task.counts.kind == "poisson_sparse":
        year, q, block_start = _sparse_draws(task)
        skipped = np.zeros(block_start.size, dtype=np.int64)
        loss = _losses(task, q)
        del q
        n_blocks = (task.last - task.first) * BLOCK_YEARS
        counts = np.bincount(year, minlength=n_blocks)[:n_unit]
        sums = np.bincount(year, weights=loss, minlength=n_blocks)[:n_unit]
        kept = np.flatnonzero(loss > task.keep_above)
        kept = kept[np.argsort(year[kept], kind="stable")]
        year = year[kept].astype(np.int64)
        kept = kept[year < n_unit]
        year = year[year < n_unit]
    else:
        counts, q, block_start, skipped = _dense_draws(task)
        loss = _losses(task, q)
        del q
        ends = np.cumsum(counts)
        sums = np.zeros(counts.size)
        nonempty = np.flatnonzero(counts)
        if nonempty.size:
            sums[nonempty] = np.add.reduceat(loss, ends[nonempty] - counts[nonempty])
        kept = np.flatnonzero(loss > task.keep_above)
        year = np.searchsorted(ends, kept, side="right")
    year += task.start
    block = np.searchsorted(block_start, kept, side="right") - 1
    ids = (kept - block_start[block] + skipped[block]) + (
        (block + task.first).astype(np.int64) << 32)
    return ChunkResult(task.cell, task.start, counts.astype(np.int32), sums, year,
                       loss[kept], ids)
