"""An on-disk store of the scenario bases of a case, in the user's own cache.

Building the scenario bases of :func:`opwb.scenarios.spec.scenario_bases` (100,000
simulated years with and without the case's reference incidents, the fitted models and the
capital baseline without the bond) takes seconds of CPU for the bundled case and a minute
or more for a bank's own data (every severity family fitted with bootstrap goodness of
fit). The app starts one kernel per page, so without a store every visitor would pay for it
again. :func:`stored_bases` builds them once, writes them here, and every later process —
every kernel of the app, every notebook — loads them in a fraction of a second:

* **No loss record is stored.** An entry holds simulated years, the fitted model sets
  (parameters, and a hash of the losses they were fitted on) and capital baselines. The
  cache folder is created readable by its owner only (mode 0700). Data given directly
  (``scenario_bases(losses=...)``) is never stored; remove the folder to forget every
  entry.
* **Bit-identical.** The stored arrays are the built arrays (``.npy``, same dtype and
  bytes); everything else (fitted models, programme) is rebuilt from the bundled files as
  :func:`opwb.scenarios.base.build_scenario_base` does. A test compares both ways field
  by field.
* **Shared memory.** Arrays are opened memory-mapped and read-only: the kernels of the app
  share one copy in the page cache instead of holding ~300 MB each, and code that would
  write into a stored array fails loudly instead of changing it. Arrays that are equal in
  both bases (the cells the CD incident does not touch) are one file.
* **Keyed by everything that fixes the numbers**: the specification's years, seed,
  severity cap, threshold, bond and incidents, the case's fingerprint (its settings and
  the bytes of every file it names; with a model set frozen in a recorded run, a digest of
  that set too), the source of the layers that build the bases
  (``opwb.data``, ``fitting``, ``engine``, ``insurance``, ``capital`` and the scenario
  base), and the numpy, scipy and Python versions. A change to any of them gives a new
  key, hence a new build; only the :data:`KEEP` most recently used entries are kept.
* **Safe with several processes**: a lock file makes one process build while the others
  wait and then load; an entry appears by an atomic rename, complete or not at all. A
  damaged or unreadable entry is rebuilt; an unwritable cache directory only means the
  bases are built in memory.

The cache directory is ``$OPWB_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/opwb``, else
``~/.cache/opwb``; entries live in its ``scenario-bases/`` folder (about 0.4 GB each).

Examples
--------
>>> from opwb.scenarios.spec import DEFAULT_SPEC
>>> from opwb.scenarios.store import cache_key
>>> key = cache_key(DEFAULT_SPEC)
>>> key == cache_key(DEFAULT_SPEC.replace(threshold=5e6))
False
>>> len(key), key == cache_key(DEFAULT_SPEC.replace(seed=2005))
(24, True)
>>> key == cache_key(DEFAULT_SPEC.replace(seed=1))
False
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["cache_dir", "cache_key", "entry_path", "stored_bases", "bundled_bases",
           "prepare_arguments", "load_bases", "save_bases", "KEEP", "FORMAT"]

FORMAT = 2
"""Version of the entry layout; part of the key."""
def _keep_setting() -> int:
    text = (os.environ.get("OPWB_STORE_KEEP") or "6").strip()
    if not text.isdigit() or int(text) < 2:
        raise ValueError(f"OPWB_STORE_KEEP must be a whole number of entries >= 2, got {text!r}")
    return int(text)


KEEP = _keep_setting()
"""Entries kept (most recently used first); older ones are removed after a new write
(``OPWB_STORE_KEEP``, default 6: a test session that builds many cases keeps more, so the
bundled case's predictive bases built first are still there for its notebooks' kernels)."""
FOLDER = "scenario-bases"
_SOURCES = ("data", "fitting", "engine", "insurance", "capital",
            "scenarios/base.py", "scenarios/store.py", "_lazy.py")
"""The parts of opwb (relative to the package) whose source fixes the stored numbers."""
EXTRA = "predictive extra"
"""A base's ``_cache`` entry stored with it (plain arrays, lists and numbers): the
predictive bases' world tables and family weights (:mod:`opwb.decision.robust`)."""
_STALE_TMP = 3600.0  # seconds after which an unfinished write of a crashed process is removed


class _Unstorable(TypeError):
    """A value the store does not know how to write (the bases are then kept in memory)."""


# ---------------------------------------------------------------------------- where and what
def cache_dir() -> Path:
    """The opwb cache directory: ``$OPWB_CACHE_DIR``, ``$XDG_CACHE_HOME/opwb`` or
    ``~/.cache/opwb`` (the first that is set)."""
    if os.environ.get("OPWB_CACHE_DIR"):
        return Path(os.environ["OPWB_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "opwb"


def _files_digest(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    """Hash of the source of the layers that build the bases, taken once per process: the
    code this process runs is the code it imported, whatever is edited afterwards."""
    package = Path(__file__).resolve().parents[1]
    sources: list[Path] = []
    for part in _SOURCES:
        path = package / part
        sources += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return _files_digest(sources, package)


def cache_key(spec, case_key: str | None = None) -> str:
    """The key of the bases of ``spec`` built from a case (24 hex digits).

    It hashes the format version, ``spec``'s years, seed, severity cap, threshold, bond
    and incidents, the case's fingerprint (``case_key``, default ``spec.case_key``: its
    settings and the bytes of the files it names), the source files of the layers that
    build the bases, and the numpy, scipy and Python versions.
    """
    import scipy

    case_key = case_key or spec.case_key
    if not case_key:
        raise ValueError("the spec names no case (case_key): stored bases are keyed by one")
    head = {"format": FORMAT, "n_years": int(spec.n_years), "seed": int(spec.seed),
            "severity_cap": None if spec.severity_cap is None else float(spec.severity_cap),
            "threshold": float(spec.threshold), "bond": spec.bond_policy,
            "incidents": list(spec.incident_ids),
            "numpy": np.__version__, "scipy": scipy.__version__,
            "python": sys.version.split()[0], "byteorder": sys.byteorder,
            "source": _source_digest(), "case": case_key}
    return hashlib.sha256(json.dumps(head, sort_keys=True).encode()).hexdigest()[:24]


def entry_path(spec, case_key: str | None = None) -> Path:
    """The folder that holds (or would hold) the stored bases of ``spec``."""
    return cache_dir() / FOLDER / cache_key(spec, case_key)


def _private_dirs(root: Path) -> None:
    """Create ``root`` (and the cache folder above it) readable by the owner only."""
    top = cache_dir()
    for folder in (top, root):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            if folder.stat().st_uid == os.getuid():
                os.chmod(folder, 0o700)
        except (OSError, AttributeError):  # pragma: no cover - not POSIX
            pass


# ---------------------------------------------------------------------------- encoding
_DATACLASSES = ("opwb.engine.simulate:SimulatedLosses", "opwb.engine.simulate:CellEvents")


class _Writer:
    """Writes arrays into ``folder`` once per content (content-addressed ``.npy`` names)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.written: set[str] = set()

    def array(self, arr: np.ndarray) -> str:
        if arr.dtype.hasobject:
            raise _Unstorable("object arrays are not stored")
        arr = np.ascontiguousarray(arr)
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.view(np.uint8).reshape(-1) if arr.size else b"")
        name = h.hexdigest() + ".npy"
        if name not in self.written:
            np.save(self.folder / name, arr, allow_pickle=False)
            self.written.add(name)
        return name


def _encode(value: Any, out: _Writer) -> Any:
    """A JSON-able description of ``value``; arrays go to files."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.ndarray):
        return {"npy": out.array(value)}
    if isinstance(value, np.generic):
        if value.dtype.hasobject:
            raise _Unstorable(type(value).__name__)
        return {"scalar": value.dtype.str, "value": value.item()}
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, out) for v in value]}
    if isinstance(value, list):
        return {"list": [_encode(v, out) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k, out), _encode(v, out)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = f"{type(value).__module__}:{type(value).__qualname__}"
        if name not in _DATACLASSES:
            raise _Unstorable(name)
        return {"dataclass": name,
                "fields": {f.name: _encode(getattr(value, f.name), out)
                           for f in dataclasses.fields(value)}}
    raise _Unstorable(type(value).__name__)


#: Stored arrays of at least this many bytes are memory-mapped (read-only, shared by every
#: kernel through the page cache); smaller ones are read into memory, since every map keeps
#: a file descriptor open (thousands of small frontier columns would pass the process's
#: limit and break ``select()`` on descriptors above 1024).
MAP_FROM_BYTES = 1 << 20


def _decode(desc: Any, folder: Path) -> Any:
    if desc is None or isinstance(desc, (bool, str, int, float)):
        return desc
    if "npy" in desc:
        path = folder / desc["npy"]
        if path.stat().st_size == 0:
            raise ValueError(f"{path} is empty")
        if path.stat().st_size < MAP_FROM_BYTES:
            # small arrays are read: each map holds a file descriptor open, and a
            # store of thousands of small tables would exhaust the process's
            small = np.load(path, allow_pickle=False)
            small.setflags(write=False)          # read-only, as the maps are
            return small
        # a plain ndarray over the read-only map (not the np.memmap subclass)
        return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
    if "scalar" in desc:
        return np.dtype(desc["scalar"]).type(desc["value"])
    if "tuple" in desc:
        return tuple(_decode(v, folder) for v in desc["tuple"])
    if "list" in desc:
        return [_decode(v, folder) for v in desc["list"]]
    if "dict" in desc:
        return {_decode(k, folder): _decode(v, folder) for k, v in desc["dict"]}
    if "dataclass" in desc:
        if desc["dataclass"] not in _DATACLASSES:
            raise ValueError(f"unknown class {desc['dataclass']!r}")
        module, qualname = desc["dataclass"].split(":")
        cls = getattr(__import__(module, fromlist=[qualname]), qualname)
        values = {k: _decode(v, folder) for k, v in desc["fields"].items()}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if set(values) != set(fields):
            raise ValueError(f"stored fields of {qualname} differ from the class's")
        obj = cls(**{k: v for k, v in values.items() if fields[k].init})
        for k, v in values.items():
            if not fields[k].init:
                object.__setattr__(obj, k, v)
        return obj
    raise ValueError(f"cannot read {desc!r}")


def _plain_cache(cache: Mapping) -> dict:
    """The entries of a base's ``_cache`` worth storing: numbers under keys of plain
    values (the capital baseline); objects built later by evaluations are left out."""
    def plain(v):
        return (v is None or isinstance(v, (bool, int, float, str, np.number))
                or (isinstance(v, tuple) and all(map(plain, v))))
    return {k: v for k, v in cache.items()
            if plain(k) and isinstance(v, (int, float, np.number)) and not isinstance(v, bool)}


# ---------------------------------------------------------------------------- reading, writing
def _models_file(include_cd: bool) -> str:
    return f"models-{'with' if include_cd else 'without'}.json"


def _rebuild_base(stored: Mapping, spec, losses, programme, sim, folder: Path,
                  frozen: Mapping | None = None):
    """A ScenarioBase around a stored simulation, with the stored model set (checked
    against the losses by its fingerprint, or equal to the ``frozen`` set it was built
    with) and the programme, as :func:`opwb.scenarios.base.build_scenario_base` builds
    them."""
    from opwb.fitting.modelset import load_model_set, losses_fingerprint, model_set_doc
    from opwb.scenarios.base import ScenarioBase, cell_models, without_incidents
    from opwb.scenarios.spec import incident_label

    include_cd = bool(stored["include_cd"])
    data = without_incidents(losses, spec.incident_ids, include_cd)
    models = load_model_set(folder / _models_file(include_cd))
    if frozen is not None:
        if model_set_doc(models) != model_set_doc(frozen[include_cd]):
            raise ValueError("the stored models are not the frozen model set")
    elif models.fingerprint != losses_fingerprint(data, spec.threshold):
        raise ValueError("the stored models were fitted on other losses")
    cells = cell_models(models, severity_cap=stored["cap_in"])
    base = ScenarioBase(include_cd, int(stored["n_years"]), int(stored["seed"]), cells,
                        {cell: m.severity for cell, m in models.items()}, sim, programme,
                        models, next(iter(cells.values())).severity_cap if cells else None,
                        bond_policy=spec.bond_policy, incidents=spec.incident_ids,
                        incident_names=incident_label(spec),
                        world_years=int(stored.get("world_years", 0)))
    base._cache.update(stored["cache"])
    return base


def load_bases(spec, losses, programme, folder: Path | None = None, *,
               models: Mapping | None = None):
    """The stored bases of ``spec`` (``{True: ..., False: ...}``), or None when there is
    no complete entry for its key.

    ``losses`` and ``programme`` must be the case's (:func:`~opwb.scenarios.spec.
    case_inputs`): the bases are rebuilt around the stored simulations and models.
    ``models``: the frozen model sets the bases were built with
    (:func:`~opwb.scenarios.spec.frozen_model_sets`), which the stored ones must equal
    (otherwise the stored ones must have been fitted on ``losses``).
    """
    folder = entry_path(spec) if folder is None else Path(folder)
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    head = json.loads(manifest.read_text(encoding="utf-8"))
    if head.get("format") != FORMAT or head.get("key") != folder.name:
        raise ValueError(f"{manifest} does not describe entry {folder.name}")
    out = {}
    for item in head["bases"]:
        stored = {"include_cd": item["include_cd"], "n_years": item["n_years"],
                  "seed": item["seed"], "cap_in": item["cap_in"],
                  "world_years": int(item.get("world_years", 0)),
                  "cache": _decode(item["cache"], folder)}
        base = _rebuild_base(stored, spec, losses, programme, _decode(item["sim"], folder),
                             folder, models)
        if "extra" in item:
            base._cache[EXTRA] = _decode(item["extra"], folder)
        out[bool(item["include_cd"])] = base
    try:
        os.utime(manifest)  # most recently used: kept by the pruning
    except OSError:
        pass
    return out


def save_bases(spec, bases: Mapping[bool, Any], root: Path | None = None,
               key: str | None = None) -> Path:
    """Write ``bases`` (built from a case for ``spec``) as the entry of its key
    (default :func:`cache_key`) in ``root`` (default the store's folder); return the entry's
    folder. The entry appears complete or not at all (written aside, then renamed); an
    existing entry is kept. Files are never rewritten in place, so processes that have
    entries open (memory-mapped) are never disturbed."""
    root = cache_dir() / FOLDER if root is None else Path(root)
    key = cache_key(spec) if key is None else key
    final = root / key
    if (final / "manifest.json").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{key}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        from opwb.fitting.modelset import save_model_set
        writer = _Writer(tmp)
        for cd, b in bases.items():
            save_model_set(b.model_set, tmp / _models_file(bool(cd)))
        items = [{"include_cd": bool(cd), "n_years": int(b.n_years), "seed": int(b.seed),
                  "world_years": int(b.world_years),
                  "cap_in": None if spec.severity_cap is None else float(spec.severity_cap),
                  "cache": _encode(_plain_cache(b._cache), writer),
                  "sim": _encode(b.sim, writer),
                  **({"extra": _encode(b._cache[EXTRA], writer)} if EXTRA in b._cache
                     else {})} for cd, b in bases.items()]
        head = {"format": FORMAT, "key": key, "bases": items,
                "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (tmp / "manifest.json").write_text(json.dumps(head), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)  # a damaged entry
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(root, keep=final)
    return final


def _prune(root: Path, keep: Path) -> None:
    """Remove entries beyond the :data:`KEEP` most recently used, and unfinished writes
    older than an hour. (A process still using a removed entry keeps its open files.)"""
    now = time.time()
    entries = []
    for path in root.iterdir():
        try:
            if path.name.startswith(".tmp-"):
                if now - path.stat().st_mtime > _STALE_TMP:
                    shutil.rmtree(path, ignore_errors=True)
            elif path.is_dir() and path != keep:
                manifest = path / "manifest.json"
                entries.append(((manifest if manifest.exists() else path).stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(entries, reverse=True)[KEEP - 1:]:
        shutil.rmtree(path, ignore_errors=True)


_HELD = threading.local()


@contextmanager
def _locked(root: Path):
    """An exclusive lock on ``root/.lock`` (no lock where ``fcntl`` does not exist).

    Re-entrant within a thread: building one kind of base may need another of the same case
    (the predictive bases of :mod:`opwb.decision` start from the plug-in ones), and a second
    ``flock`` on a new descriptor of the same file would wait for the first forever."""
    key = str(root.resolve())
    held = getattr(_HELD, "roots", None)
    if held is None:
        held = _HELD.roots = {}
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(root / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        held[key] = 1
        try:
            yield
        finally:
            held[key] = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def stored_bases(spec, build: Callable[[], dict], losses, programme,
                 progress: Callable[[float, str], None] | None = None,
                 case_key: str | None = None, variant: str = "",
                 models: Mapping | None = None) -> dict:
    """The bases of ``spec`` from a case: loaded from the store, else built by ``build()``
    and stored.

    Parameters
    ----------
    spec : ScenarioSpec
        Years, seed, severity cap, threshold, bond and incidents.
    build : callable
        Builds ``{True: base, False: base}`` (or ``{True: base}``) in memory (called at
        most once).
    losses, programme
        The case's inputs (:func:`opwb.scenarios.spec.case_inputs`).
    progress : callable ``(fraction, text)``, optional
        Told when the bases come from the store.
    case_key : str, optional
        The case's fingerprint (default ``spec.case_key``).
    variant : str, optional
        Another kind of base of the same case and spec (e.g. the predictive bases of
        :mod:`opwb.decision`, whose name carries their settings and source): a key of its
        own.
    models : mapping of bool -> ModelSet, optional
        The frozen model sets ``build`` uses (a case's ``models = "run:LABEL"``): a stored
        entry is used only when its models equal them, whatever the losses' fingerprint.
        ``case_key`` must then name them too, so that two frozen sets never share an entry.

    Returns
    -------
    dict
        ``{True: with the incidents, False: without}``.

    Notes
    -----
    Whatever goes wrong with the cache directory (not writable, full, a damaged entry),
    the bases are still returned: built in memory, and stored when possible.
    """
    root = cache_dir() / FOLDER
    with ExitStack() as stack:
        try:
            _private_dirs(root)
            stack.enter_context(_locked(root))
        except OSError:
            return build()
        key = cache_key(spec, case_key)  # once: the sources may change while this runs
        if variant:
            key = f"{key}-{variant}"
        folder = root / key
        found = _try_load(spec, losses, programme, folder, models)
        if found is not None:
            if progress is not None:
                progress(1.0, "저장된 모의실험 결과 사용 (stored simulation)")
            return found
        bases = build()
        try:
            save_bases(spec, bases, root, key)
        except (OSError, _Unstorable):
            return bases  # the bases are fine; only storing them failed
        # from now on the same (shared, read-only) arrays as every later process
        return _try_load(spec, losses, programme, folder, models) or bases


def _try_load(spec, losses, programme, folder: Path, models: Mapping | None = None):
    """:func:`load_bases`, with a damaged entry removed (and None returned)."""
    try:
        return load_bases(spec, losses, programme, folder, models=models)
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(folder, ignore_errors=True)
        return None


bundled_bases = stored_bases
"""The former name of :func:`stored_bases` (opwb 0.1, when only the bundled data was
stored)."""


def prepare_arguments(argv, *, prog: str, description: str, what: str,
                      cluster: bool = False):
    """The arguments of a ``prepare [--case PATH]`` command line (this module's and
    :mod:`opwb.decision`'s; ``cluster``: also ``--workers N`` or ``--scheduler ADDRESS``)."""
    import argparse

    ap = argparse.ArgumentParser(prog=prog, description=description)
    sub = ap.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help=f"build (or find) {what}")
    prep.add_argument("--case", help="case file (default: $OPWB_CASE, else the bundled case)")
    if cluster:
        where = prep.add_mutually_exclusive_group()
        where.add_argument("--workers", type=int, default=0,
                           help="run the worlds on a Dask LocalCluster of N worker processes "
                                "(127.0.0.1)")
        where.add_argument("--scheduler", default=None,
                           help="run the worlds on the Dask scheduler at this address "
                                "(e.g. tcp://scheduler:8786)")
    args = ap.parse_args(argv)
    if cluster and args.workers < 0:
        ap.error(f"--workers must be 0 (this process) or more, got {args.workers}")
    return args


def main(argv=None) -> int:
    """``python -m opwb.scenarios.store prepare [--case PATH]``: build the scenario bases of a
    case into the store (or find them there), so that every app kernel loads them at once.
    :mod:`opwb.decision` prepares them with the predictive model. Prints where they are and
    how long it took."""
    from opwb.data.case import open_case
    from opwb.data.errors import DataError
    from opwb.scenarios.spec import scenario_bases, spec_for

    args = prepare_arguments(argv, prog="python -m opwb.scenarios.store",
                             description="The on-disk store of scenario bases.",
                             what="a case's scenario bases")
    t0 = time.perf_counter()
    try:
        case = open_case(args.case)
        spec = spec_for(case)
        scenario_bases(spec, case=case)
    except (DataError, ValueError) as exc:
        print(f"opwb: cannot prepare the scenario bases: {exc}", file=sys.stderr)
        return 2
    print(f"{case.name}: scenario bases ready ({time.perf_counter() - t0:.0f} s, "
          f"{entry_path(spec)})")
    return 0


if __name__ == "__main__":  # pragma: no cover - command line
    raise SystemExit(main())
