"""Packaging and house rules that hold for every opwb module, found dynamically.

* ``environment.yml`` (conda) and ``pyproject.toml`` (pip) list the same dependencies.
* Importing opwb and all its modules in a fresh interpreter changes no global state.
* Only ``opwb.report.plots`` (and ``opwb.app`` above it) load matplotlib; only ``opwb.app``
  loads ipywidgets. (Which opwb layer may import which is pinned in ``test_layers.py``.)
* ``workbench.py``: the environment stamp, the pip bootstrap for Pythons without
  ``ensurepip``, and the test command's exit code and quietness.
"""
from __future__ import annotations

import json
import pkgutil
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

import opwb
import workbench

REPO = Path(__file__).resolve().parents[1]
OPWB_MODULES = sorted(
    ["opwb"] + [m.name for m in pkgutil.walk_packages(opwb.__path__, prefix="opwb.")])
# The layering of docs/ARCHITECTURE.md: plots (a package: opwb.report.plots and its submodules) is the only
# layer importing matplotlib; dashboard, the only layer above it, imports ipywidgets and
# draws through plots.
MAY_LOAD = {"matplotlib": {"opwb.report.plots", "opwb.app"}, "ipywidgets": {"opwb.app"}}


def may_load(module: str, package: str) -> bool:
    """True when ``module`` is, or lives inside, a layer allowed to load ``package``."""
    return any(module == m or module.startswith(m + ".") for m in MAY_LOAD[package])


def run_python(code: str, *args: str, cwd: Path | None = None, timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter of this environment; return its stdout."""
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"fresh interpreter failed:\n{result.stderr[-4000:]}"
    return result.stdout


# ---------------------------------------------------------------------------------------------
# environment.yml and pyproject.toml agree
# ---------------------------------------------------------------------------------------------
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:#.*)?$")


def _split(requirement: str) -> tuple[str, str]:
    """``"pandas >=2.2"`` → ``("pandas", ">=2.2")``; names normalised as in PEP 503."""
    match = _REQ.match(requirement)
    assert match, f"cannot read requirement {requirement!r}"
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return name, match.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [r for r in extra if not r.startswith("opwb")]
    reqs.append("python" + project["requires-python"])
    return dict(map(_split, reqs))


def environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    reqs: list[str] = []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            reqs += [r for r in item.get("pip", []) if not r.startswith("-")]  # -e . = opwb
        elif _split(item)[0] != "pip":
            reqs.append(item)
    split = [_split(r) for r in reqs]
    names = [n for n, _ in split]
    assert len(names) == len(set(names)), f"environment.yml lists a package twice: {names}"
    return dict(split)


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    pip, conda = pyproject_requirements(), environment_requirements()
    only_pip = sorted(set(pip) - set(conda))
    only_conda = sorted(set(conda) - set(pip))
    bounds = sorted(f"{n}: pyproject {pip[n]!r} vs environment.yml {conda[n]!r}"
                    for n in set(pip) & set(conda) if pip[n] != conda[n])
    assert not (only_pip or only_conda or bounds), (
        "environment.yml and pyproject.toml have drifted:\n"
        f"  only in pyproject.toml: {only_pip}\n  only in environment.yml: {only_conda}\n"
        f"  different version bounds: {bounds}")


def test_requirement_parser_reads_both_spellings():
    assert _split("koreanize_matplotlib >= 0.1.1") == ("koreanize-matplotlib", ">=0.1.1")
    assert _split("pytest-timeout>=2.3  # test") == ("pytest-timeout", ">=2.3")
    assert _split("jupyterlab") == ("jupyterlab", "")


# ---------------------------------------------------------------------------------------------
# Importing opwb changes no global state
# ---------------------------------------------------------------------------------------------
_LOADED_BY_OPWB = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps([m for m in list(sys.modules) if m.split(".")[0] != "opwb"]))
"""

_STATE_PROBE = """
import contextlib, importlib, io, json, locale, logging, os, random, sys, warnings
from pathlib import Path

modules, third_party, data_dir = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
# Load first what opwb's modules load (numpy, pandas, scipy, matplotlib, ...): some of those
# libraries set warning filters of their own when imported; only opwb's doing counts here.
for name in third_party:
    try:
        importlib.import_module(name)
    except Exception:
        pass
import matplotlib, matplotlib.font_manager, numpy as np, pandas as pd

def files(root):
    return sorted(str(p.relative_to(root)) + ":" + str(p.stat().st_mtime_ns)
                  for p in Path(root).rglob("*"))

def snapshot():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        pd.describe_option()
    return {
        "warnings.filters": [repr(f) for f in warnings.filters],
        "pandas options": out.getvalue().splitlines(),
        "matplotlib rcParams": sorted(f"{k}={v!r}" for k, v in matplotlib.rcParams.items()),
        "matplotlib fonts": sorted(f.fname for f in matplotlib.font_manager.fontManager.ttflist),
        "numpy error handling": sorted(f"{k}={v}" for k, v in np.geterr().items()),
        "numpy print options": sorted(f"{k}={v!r}" for k, v in np.get_printoptions().items()),
        "numpy global RNG": [repr(np.random.get_state(legacy=True))],
        "random module RNG": [repr(random.getstate())],
        "os.environ": sorted(f"{k}={v}" for k, v in os.environ.items()),
        "locale": [locale.setlocale(locale.LC_ALL, None)],
        "logging": [repr(logging.root.level), repr(logging.root.handlers)] + sorted(
            f"{n}={getattr(l, 'level', None)}" for n, l in logging.root.manager.loggerDict.items()
            if n.split(".")[0] == "opwb"),
        "files in the working directory": files(os.getcwd()),
        "files in data/": files(data_dir),
    }

before = snapshot()
for name in modules:
    importlib.import_module(name)
after = snapshot()
changes = {}
for key in before:
    gone = sorted(set(before[key]) - set(after[key]))
    new = sorted(set(after[key]) - set(before[key]))
    if gone or new or before[key] != after[key]:
        changes[key] = {"removed": gone[:10], "added": new[:10]}
print(json.dumps(changes))
"""


def test_importing_every_opwb_module_changes_no_global_state(tmp_path):
    modules = json.dumps(OPWB_MODULES)
    loaded = json.loads(run_python(_LOADED_BY_OPWB, modules, cwd=tmp_path))
    third_party = json.dumps([m for m in loaded if m != "__main__"])
    changes = json.loads(run_python(_STATE_PROBE, modules, third_party, str(opwb.data_path("")),
                                    cwd=tmp_path))
    assert changes == {}, ("importing " + ", ".join(OPWB_MODULES) + " changed global state:\n"
                           + json.dumps(changes, indent=1, ensure_ascii=False))
    assert list(tmp_path.iterdir()) == []


def test_state_probe_notices_a_change(tmp_path):
    """The probe is not blind: a module that sets a warning filter and a pandas option and
    writes a file is caught."""
    bad = tmp_path / "pkg"
    bad.mkdir()
    (bad / "naughty.py").write_text(textwrap.dedent("""
        import warnings, pandas as pd, matplotlib
        warnings.simplefilter("ignore")
        pd.set_option("display.max_rows", 7)
        matplotlib.rcParams["axes.unicode_minus"] = False
        open("stray.txt", "w").close()
    """))
    code = f"import sys; sys.path.insert(0, {str(bad)!r})\n" + _STATE_PROBE
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    changes = json.loads(run_python(code, '["naughty"]', "[]", str(opwb.data_path("")), cwd=cwd))
    assert {"warnings.filters", "pandas options", "matplotlib rcParams",
            "files in the working directory"} <= set(changes)


# ---------------------------------------------------------------------------------------------
# Only plots loads matplotlib, only dashboard loads ipywidgets
# ---------------------------------------------------------------------------------------------
_LOADED_PACKAGES = """
import importlib, json, os, sys
# numpy, pandas and scipy load neither matplotlib nor ipywidgets (checked below), so loading
# them once before forking cannot hide an import; it only spares every child their import time.
import numpy, pandas, scipy.fft, scipy.optimize, scipy.special, scipy.stats
HEAVY = {"matplotlib", "ipywidgets"}

def heavy():
    return sorted({m.split(".")[0] for m in sys.modules} & HEAVY)

assert heavy() == [], heavy()
result = {}
for name in json.loads(sys.argv[1]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: a clean interpreter state apart from the libraries above
        os.close(read)
        try:
            importlib.import_module(name)
            out = json.dumps(heavy())
        except BaseException as exc:
            out = json.dumps({"error": repr(exc)})
        os.write(write, out.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result[name] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def heavy_packages_by_module() -> dict[str, list[str]]:
    """Module → which of matplotlib/ipywidgets are loaded after importing just that module
    (each in a forked child of a fresh interpreter that has loaded neither)."""
    return json.loads(run_python(_LOADED_PACKAGES, json.dumps(OPWB_MODULES)))


def test_module_discovery_and_the_probe_see_what_they_should(heavy_packages_by_module):
    assert {"opwb", "opwb.data.errors", "opwb.data.taxonomy", "opwb.data.units",
            "opwb.report.plots.style", "opwb.app.dashboard"} <= set(OPWB_MODULES)
    assert heavy_packages_by_module["opwb.report.plots.style"] == ["matplotlib"]  # not blind
    assert heavy_packages_by_module["opwb.app.dashboard"] == ["ipywidgets", "matplotlib"]
    assert may_load("opwb.report.plots.scenario", "matplotlib")
    assert not may_load("opwb.report.plotsx", "matplotlib")
    assert not may_load("opwb.scenarios", "matplotlib")


@pytest.mark.parametrize("module", OPWB_MODULES)
def test_only_plots_and_dashboard_load_matplotlib_and_ipywidgets(module, heavy_packages_by_module):
    loaded = heavy_packages_by_module[module]
    assert isinstance(loaded, list), f"importing {module} failed: {loaded}"
    forbidden = sorted(pkg for pkg in loaded if not may_load(module, pkg))
    assert not forbidden, (
        f"importing {module} loads {forbidden}; only {MAY_LOAD} may (see DESIGN.md layering)")


# ---------------------------------------------------------------------------------------------
# workbench.py: environment stamp, pip bootstrap, the test command
# ---------------------------------------------------------------------------------------------
def test_venv_is_current_only_with_a_matching_stamp(tmp_path):
    root, venv = tmp_path, tmp_path / ".venv"
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert not workbench.venv_is_current(root, venv)  # no environment yet
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    assert not workbench.venv_is_current(root, venv)  # no stamp: never installed
    (venv / workbench.STAMP_NAME).write_text(workbench.install_stamp(root))
    assert workbench.venv_is_current(root, venv)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["numpy"]\n')
    assert not workbench.venv_is_current(root, venv)  # pyproject changed: re-install


def test_bootstrap_pip_without_ensurepip(tmp_path):
    """The fallback for Debian's python3 without python3-venv: a venv created without pip
    gets pip from the wheel PyPI's JSON API names."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = workbench.venv_python(venv)
    assert subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode != 0
    workbench.bootstrap_pip(python, tmp_path)
    version = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert str(venv) in version


def _workbench_test(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    python = shutil.which("python3") or sys.executable
    return subprocess.run([python, str(REPO / "workbench.py"), "test", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_workbench_test_is_idempotent_and_quiet_when_current(tmp_path):
    _workbench_test("--version", cwd=tmp_path)  # brings .venv up to date if it was not
    result = _workbench_test("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pytest" in result.stdout + result.stderr
    assert "workbench:" not in result.stdout + result.stderr
    assert workbench.venv_is_current()


@pytest.mark.parametrize(("body", "exit_code"), [
    ("def test_ok():\n    assert True\n", 0),
    ("def test_broken():\n    assert 1 == 2\n", 1),
    ("", 5),  # pytest's "no tests collected" is a failure for CI, never hidden
])
def test_workbench_test_exits_with_pytests_exit_code(tmp_path, body, exit_code):
    (tmp_path / "test_sample.py").write_text(body)
    result = _workbench_test("-q", "-p", "no:cacheprovider", str(tmp_path), cwd=tmp_path)
    assert result.returncode == exit_code, result.stdout[-2000:]


def test_the_version_is_said_once():
    """``opwb.__version__`` (what run records and the settings sheet carry) is the version
    pyproject.toml gives pip."""
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    import opwb
    assert project["version"] == opwb.__version__
