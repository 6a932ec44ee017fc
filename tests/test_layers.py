"""The layer rule: each opwb subpackage imports only the layers below it.

``LAYERS`` is the house drawn in ``docs/ARCHITECTURE.md``; every package's ``__init__``
docstring says the same in words. Two checks, because each sees what the other cannot:

* statically, every ``import`` statement in every module (including those inside functions,
  which run only when called) names only allowed layers;
* dynamically, importing every module of a layer in a fresh interpreter loads no opwb module
  of a layer it may not import (catches imports made by other means, e.g. ``importlib``).
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import opwb

PACKAGE_DIR = Path(opwb.__file__).resolve().parent

#: Layer → the layers it may import (besides itself and the helpers at opwb's root).
LAYERS: dict[str, set[str]] = {
    "data": set(),
    "analysis": {"data"},
    "fitting": {"data"},
    "engine": {"data", "fitting"},
    "insurance": {"data", "engine"},
    "capital": {"data", "engine", "insurance"},
    "scenarios": {"data", "fitting", "engine", "insurance", "capital"},
    "decision": {"data", "fitting", "engine", "insurance", "capital", "scenarios"},
    "runs": {"data", "analysis", "fitting", "engine", "insurance", "capital", "scenarios",
             "decision"},
    "report": {"data", "analysis", "fitting", "engine", "insurance", "capital", "scenarios",
               "decision", "runs"},
    "app": {"data", "analysis", "fitting", "engine", "insurance", "capital", "scenarios",
            "decision", "runs", "report"},
}
ROOT_HELPERS = {"_lazy", "_version"}  # the lazy re-export helper; the version string


def layer_of(module: str) -> str | None:
    """``"opwb.fitting.mle"`` → ``"fitting"``; opwb's root and its helpers → None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def module_files() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).with_suffix("")
        parts = ["opwb", *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported_opwb_modules(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import of opwb in ``path``, relative ones resolved."""
    found = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "opwb"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.split(".")[0] != "opwb":
                continue
            if name == "opwb":  # `from opwb import x`: x is a layer or a root name
                found += [(node.lineno, f"opwb.{a.name}" if a.name in LAYERS else "opwb")
                          for a in node.names]
            else:
                found.append((node.lineno, name))
    return found


def violations(module: str, imported: list[tuple[int, str]]) -> list[str]:
    layer = layer_of(module)
    if layer is None:
        return []  # opwb's root re-exports from every layer, lazily
    allowed = LAYERS[layer] | {layer}
    bad = []
    for line, name in imported:
        target = layer_of(name)
        if target is None and name.split(".")[1:2] and name.split(".")[1] in ROOT_HELPERS:
            continue
        if target is None:
            bad.append(f"{module} line {line} imports {name} (opwb's root): import the layer "
                       "that defines the name instead")
        elif target not in allowed:
            bad.append(f"{module} line {line} imports {name}: layer {layer!r} may import only "
                       f"{sorted(allowed)}")
    return bad


def test_every_module_belongs_to_a_layer_and_every_layer_exists():
    modules = module_files()
    assert {layer_of(m) for m in modules} - {None} == set(LAYERS)
    strays = [m for m in modules if layer_of(m) is None and m not in
              {"opwb", *(f"opwb.{h}" for h in ROOT_HELPERS)}]
    assert not strays, f"modules outside every layer: {strays}"


def test_import_statements_respect_the_layers():
    bad = [v for m, p in module_files().items() for v in violations(m, imported_opwb_modules(m, p))]
    assert not bad, "\n".join(bad)


def test_the_static_check_is_not_blind(tmp_path):
    assert violations("opwb.fitting.mle", [(3, "opwb.scenarios.base")])
    assert violations("opwb.data.losses", [(9, "opwb.engine.simulate")])
    assert violations("opwb.engine.fft", [(1, "opwb")])  # `from opwb import data_path`
    assert not violations("opwb.engine.fft", [(1, "opwb.fitting.mle"), (2, "opwb._lazy")])
    assert not violations("opwb.app.dashboard", [(1, "opwb.report.plots.scenario")])
    # an import inside a function, relative, two levels up, is found and resolved
    module = tmp_path / "mle.py"
    module.write_text("def f():\n    from ..scenarios.base import x\n    from . import gof\n")
    assert imported_opwb_modules("opwb.fitting.mle", module) == [
        (2, "opwb.scenarios.base"), (3, "opwb.fitting")]
    assert violations("opwb.fitting.mle", imported_opwb_modules("opwb.fitting.mle", module))


_LOADED_LAYERS = """
import importlib, json, os, sys
layers, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
import numpy, pandas, scipy.stats  # loaded once before forking; they import no opwb module
result = {}
for layer in layers:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            for name in modules:
                if name == "opwb." + layer or name.startswith("opwb." + layer + "."):
                    importlib.import_module(name)
            out = sorted({m.split(".")[1] for m in sys.modules
                          if m.startswith("opwb.") and m.split(".")[1] in layers})
        except BaseException as exc:
            out = {"error": repr(exc)}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result[layer] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps(result))
"""


def test_importing_a_layer_in_a_fresh_interpreter_loads_only_the_layers_below_it(tmp_path):
    modules = sorted(module_files())
    out = subprocess.run([sys.executable, "-c", _LOADED_LAYERS, json.dumps(sorted(LAYERS)),
                          json.dumps(modules)], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout)
    for layer, layers in loaded.items():
        assert isinstance(layers, list), f"importing layer {layer} failed: {layers}"
        extra = sorted(set(layers) - LAYERS[layer] - {layer})
        assert not extra, f"importing opwb.{layer} loads the layers {extra} it may not import"
    assert "data" in loaded["app"] and loaded["data"] == ["data"]  # the probe sees imports


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_says_what_it_owns_and_may_import(layer):
    doc = __import__(f"opwb.{layer}", fromlist=["_"]).__doc__ or ""
    assert len(doc.split()) >= 25, f"opwb.{layer} needs a paragraph saying what it owns"
    words = doc.replace("\n", " ")
    if LAYERS[layer]:
        assert "may import" in words, f"opwb.{layer}'s docstring does not say what it may import"
    else:
        assert "may import no other opwb package" in words


#: The layers that compute figures: they receive what the bank's case holds and never reach
#: for the synthetic generator (issue 20: "nothing in opwb.scenarios or below imports the
#: synthetic generator").
COMPUTING_LAYERS = ("analysis", "fitting", "engine", "insurance", "capital", "scenarios",
                    "decision", "runs")


def test_no_computing_layer_imports_the_synthetic_generator():
    found = []
    for module, path in module_files().items():
        if layer_of(module) in COMPUTING_LAYERS:
            found += [f"{module} line {line}: {name}" for line, name in
                      imported_opwb_modules(module, path) if name == "opwb.data.synth"]
    assert not found, "the generator is the bundled data's, not a computing layer's: " + \
        "; ".join(found)
