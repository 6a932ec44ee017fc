"""Lazy re-exports for opwb's packages (PEP 562 module ``__getattr__``).

A package lists which public name lives in which of its modules; the module is imported the
first time one of its names is used, so ``import opwb`` and ``import opwb.data`` stay light
and a package's ``__init__`` never imports a layer it need not.

Examples
--------
>>> import opwb.data
>>> opwb.data.format_krw(65e9)
'650억원'
>>> "load_losses" in dir(opwb.data)
True
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["attach"]


def attach(package: str, exports: Mapping[str, str]
           ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """Module ``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of public name to the module (relative to ``package``, dotted) that
        defines it.

    Returns
    -------
    (__getattr__, __dir__, __all__)
        To be assigned in the package's ``__init__``.
    """
    exports = dict(exports)

    def __getattr__(name: str) -> object:
        if name in exports:
            module = importlib.import_module(f"{package}.{exports[name]}")
            value = getattr(module, name)
            importlib.import_module(package).__dict__[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(exports))

    return __getattr__, __dir__, sorted(exports)
