"""The on-disk store of the bundled scenario bases (opwb.scenarios.store).

Loading must give exactly what building gives (every array bit for bit, the models, the
capital baseline), only the bundled data may ever be written, and a damaged, stale or
unwritable cache must never change a result.
"""
from __future__ import annotations

import dataclasses
import math
import shutil
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import opwb

from opwb.scenarios.spec import incident_label
from opwb.scenarios import spec as specmod
from opwb.scenarios import store
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.base import ScenarioSettings, baseline_capital, build_scenario_base
from opwb.scenarios.evaluation import evaluate

from .conftest import EOK

SPEC = specmod.DEFAULT_SPEC.replace(n_years=2_000, seed=11)


def assert_same(a, b, where: str = "base") -> None:
    """Equal bit for bit: arrays by dtype, shape and bytes; floats by their bits;
    dataclasses field by field (also fields excluded from ``==``); scipy distributions by
    family and parameters."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert a.tobytes() == b.tobytes(), f"{where}: array bytes differ"
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, (pd.DataFrame, pd.Series)):
        assert_frame(a, b, where)
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif hasattr(a, "dist") and hasattr(a, "args"):  # a frozen scipy distribution
        assert a.dist.name == b.dist.name, where
        assert_same(tuple(a.args), tuple(b.args), f"{where}.args")
        assert_same(dict(a.kwds), dict(b.kwds), f"{where}.kwds")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_frame(a, b, where):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    else:
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=where)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache directory of this test's own (``$OPWB_CACHE_DIR``)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("OPWB_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def inputs():
    losses, programme, _ = specmod.bundled_inputs()
    return losses, programme


def build_for(spec, inputs, calls=None):
    """The two bases built in memory (what scenario_bases does without a store)."""
    losses, programme = inputs

    def build():
        if calls is not None:
            calls.append(1)
        return {cd: build_scenario_base(losses, programme, include_cd=cd, n_years=spec.n_years,
                                        seed=spec.seed, severity_cap=spec.severity_cap,
                                        threshold=spec.threshold,
                                        incidents=spec.incident_ids,
                                        incident_names=incident_label(spec),
                                        bond_policy=spec.bond_policy)
                for cd in (True, False)}
    return build


def test_loaded_bases_are_bit_identical_to_built_ones(cache, inputs):
    built = build_for(SPEC, inputs)()
    calls: list = []
    first = store.bundled_bases(SPEC, build_for(SPEC, inputs, calls), *inputs)
    again = store.bundled_bases(SPEC, build_for(SPEC, inputs, calls), *inputs)
    assert calls == [1], "built once, then loaded"
    assert (store.entry_path(SPEC) / "manifest.json").is_file()
    for bases in (first, again):
        assert list(bases) == [True, False]
        for cd in (True, False):
            assert_same(built[cd], bases[cd], f"bases[{cd}]")
    # the capital baseline is stored, not recomputed: nothing is added to the base's cache
    loaded = again[True]
    size = len(loaded._cache)
    assert baseline_capital(loaded, ScenarioSettings()) == baseline_capital(built[True],
                                                                            ScenarioSettings())
    assert len(loaded._cache) == size
    # and every figure of an evaluation is the same
    alt = Alternative("1,000억", limit=1000 * EOK, deductible=50 * EOK, premium=70 * EOK)
    a, b = evaluate(built[True], alt), evaluate(loaded, alt)
    assert a.metrics.keys() == b.metrics.keys()
    for k in a.metrics:
        assert_same(float(a.metrics[k]), float(b.metrics[k]), f"metrics[{k!r}]")
    assert_same(a.annual_net, b.annual_net, "annual_net")


def test_stored_arrays_are_shared_read_only_maps(cache, inputs):
    bases = store.bundled_bases(SPEC, build_for(SPEC, inputs), *inputs)
    sim = bases[True].sim
    arrays = [sim.annual_gross["IF"], sim.events["IF"].loss, *sim._draws.values()]
    assert arrays and all(not a.flags.writeable for a in arrays)
    assert all(type(a) is np.ndarray for a in arrays)  # plain arrays over the maps
    with pytest.raises(ValueError, match="read-only"):
        sim.events["IF"].loss[0] = 0.0
    # cells the CD incident does not touch are one file for both bases
    other = bases[False].sim
    same = [c for c in sim.cells if c != "IF"
            and np.array_equal(sim.events[c].loss, other.events[c].loss)]
    assert same
    names = {p.name for p in store.entry_path(SPEC).glob("*.npy")}
    assert len(names) < 2 * len(sim.cells) * 5


def test_a_users_losses_are_never_written(cache, inputs, monkeypatch):
    losses, programme = inputs
    monkeypatch.setattr(specmod, "_BASES", {})
    bases = specmod.scenario_bases(SPEC, losses=losses.copy(), cache=True)
    assert set(bases) == {True, False}
    bases = specmod.scenario_bases(SPEC, programme=programme, cache=True)
    assert not cache.exists() or not any(cache.rglob("*")), "a user's data reached the disk"


def test_scenario_bases_uses_the_store_for_bundled_data_only_when_caching(cache, monkeypatch):
    monkeypatch.setattr(specmod, "_BASES", {})
    specmod.scenario_bases(SPEC, cache=False)
    assert not cache.exists()
    steps = []
    specmod.scenario_bases(SPEC, progress=lambda f, text: steps.append(f))
    assert (store.entry_path(SPEC) / "manifest.json").is_file()
    monkeypatch.setattr(specmod, "_BASES", {})  # a new process, as far as the memo knows
    steps.clear()
    specmod.scenario_bases(SPEC, progress=lambda f, text: steps.append(f))
    assert steps == [1.0]


def test_a_damaged_entry_is_rebuilt(cache, inputs):
    built = build_for(SPEC, inputs)()
    store.bundled_bases(SPEC, build_for(SPEC, inputs), *inputs)
    entry = store.entry_path(SPEC)
    victim = max(entry.glob("*.npy"), key=lambda p: p.stat().st_size)
    head = victim.read_bytes()[:200]
    victim.unlink()  # (truncating in place would pull the pages from under the maps)
    victim.write_bytes(head)  # as a crashed copy would leave it
    calls: list = []
    again = store.bundled_bases(SPEC, build_for(SPEC, inputs, calls), *inputs)
    assert calls == [1]
    assert_same(built[True].sim, again[True].sim, "sim")
    (entry / "manifest.json").write_text("{not json")
    again = store.bundled_bases(SPEC, build_for(SPEC, inputs, calls), *inputs)
    assert calls == [1, 1]
    assert_same(built[False].sim, again[False].sim, "sim")


def test_an_unwritable_cache_only_means_building_in_memory(tmp_path, monkeypatch, inputs):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("OPWB_CACHE_DIR", str(blocker))
    calls: list = []
    bases = store.bundled_bases(SPEC, build_for(SPEC, inputs, calls), *inputs)
    assert calls == [1] and set(bases) == {True, False}
    assert bases[True].sim.annual_gross["IF"].flags.writeable  # built, not loaded


def test_the_key_follows_what_fixes_the_numbers(tmp_path, monkeypatch):
    key = store.cache_key(SPEC)
    assert key == store.cache_key(SPEC.replace(settings=ScenarioSettings(cost_of_capital=0.2)))
    for other in (SPEC.replace(seed=12), SPEC.replace(n_years=2_001),
                  SPEC.replace(severity_cap=None), SPEC.replace(severity_cap=2e12)):
        assert store.cache_key(other) != key
    # the case: its threshold, bond, incidents and fingerprint (settings and file bytes)
    for other in (SPEC.replace(threshold=5e6), SPEC.replace(bond_policy="FIB-2006"),
                  SPEC.replace(incidents=()), SPEC.replace(case_key="another case")):
        assert store.cache_key(other) != key
    case = opwb.bundled_case()
    copy = tmp_path / "data"
    shutil.copytree(case.root, copy)
    moved = opwb.load_case(copy / "case.toml")
    assert store.cache_key(SPEC, moved.fingerprint()) == key      # where it lies: no matter
    (copy / "README.md").write_text("notes only")  # not an input
    assert store.cache_key(SPEC, moved.fingerprint()) == key
    with open(copy / "losses.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    assert store.cache_key(SPEC, moved.fingerprint()) != key


def test_old_entries_are_pruned(cache, inputs, monkeypatch):
    monkeypatch.setattr(store, "KEEP", 6)           # the default (the suite keeps more)
    specs = [SPEC.replace(n_years=1_000 + i) for i in range(store.KEEP + 1)]
    for spec in specs:
        store.bundled_bases(spec, build_for(spec, inputs), *inputs)
    kept = sorted(p.name for p in (cache / store.FOLDER).iterdir() if not p.name.startswith("."))
    assert len(kept) == store.KEEP
    assert store.cache_key(specs[0]) not in kept and store.cache_key(specs[-1]) in kept


def test_processes_share_one_build(cache, inputs):
    """Two fresh interpreters asking at once: one builds, the other waits and loads."""
    code = textwrap.dedent(f"""
        import sys, time
        from opwb.scenarios import spec as s
        spec = s.DEFAULT_SPEC.replace(n_years={SPEC.n_years}, seed={SPEC.seed})
        built = []
        real = s.build_scenario_base
        def counting(*a, **k):
            built.append(1)
            return real(*a, **k)
        s.build_scenario_base = counting
        b = s.scenario_bases(spec)
        print(len(built), float(b[True].sim.total_gross().sum()).hex())
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(int(o[0]) for o in outs) == [0, 2], outs  # one built both bases, one loaded
    assert outs[0][1] == outs[1][1]
    assert not math.isnan(float.fromhex(outs[0][1]))


def test_the_store_lock_is_reentrant_in_a_thread_and_exclusive_between_threads(tmp_path):
    """Building the predictive bases takes the lock and builds the plug-in bases inside it:
    the same thread takes it again at once; another thread waits for it."""
    import threading
    import time as _time

    from opwb.scenarios import store
    events = []

    def nested():
        with store._locked(tmp_path):
            with store._locked(tmp_path):
                events.append(("inner", _time.monotonic()))
            _time.sleep(0.5)
            events.append(("released", _time.monotonic()))

    def other():
        _time.sleep(0.1)
        with store._locked(tmp_path):
            events.append(("other", _time.monotonic()))

    threads = [threading.Thread(target=nested), threading.Thread(target=other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [e for e, _ in events] == ["inner", "released", "other"]
    assert dict(events)["other"] >= dict(events)["released"]


def test_loading_holds_a_descriptor_only_for_each_large_array(cache, inputs):
    """Every memory map keeps a file descriptor open; a store of thousands of small frontier
    columns once pushed the suite past 1024 descriptors (``select()`` failed). Only arrays of
    at least MAP_FROM_BYTES are mapped; the others are read (read-only too)."""
    import os
    store.bundled_bases(SPEC, build_for(SPEC, inputs), *inputs)
    files = list(store.entry_path(SPEC).glob("*.npy"))
    large = sum(p.stat().st_size >= store.MAP_FROM_BYTES for p in files)
    assert large < len(files)                     # both kinds are in the entry
    before = len(os.listdir("/proc/self/fd"))
    bases = store.bundled_bases(SPEC, build_for(SPEC, inputs), *inputs)
    held = len(os.listdir("/proc/self/fd")) - before
    assert held <= large + 2, (held, large, len(files))
    sim = bases[True].sim
    assert all(not a.flags.writeable for a in (*sim.annual_gross.values(),
                                              *sim.annual_count.values()))
