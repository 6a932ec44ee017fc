"""Charts for the workbench (the only opwb module that imports matplotlib).

Korean text needs a Korean font: :func:`use_korean_font` registers NanumGothic (shipped in
the PyPI package ``koreanize-matplotlib``; the package itself is never imported) and makes
it the default — notebooks call it in their first cell. Every plot function also styles
itself inside :func:`matplotlib.rc_context` and sets the font on the texts it creates, so
charts render Korean even without that call, and no function changes global rcParams.

Plot functions take analysis results (see :mod:`opwb.analysis`) and an optional ``ax``,
return the :class:`~matplotlib.axes.Axes` and never modify their inputs. Amounts are shown
in 억원 (1억 = 1e8 KRW).
"""
from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from opwb.data.taxonomy import EVENT_TYPE_CODES
from opwb.data.units import format_number

__all__ = ["KOREAN_FONT", "EVENT_TYPE_COLORS", "korean_font_files", "use_korean_font"]


KOREAN_FONT = "NanumGothic"


_FAMILY = [KOREAN_FONT, "DejaVu Sans"]  # DejaVu supplies glyphs Nanum lacks (e.g. U+2212)


_STYLE = {
    "font.family": _FAMILY, "axes.unicode_minus": False, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6,
    "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9, "legend.frameon": False,
}


#: One colour per event type, used by every chart.
EVENT_TYPE_COLORS: dict[str, str] = dict(zip(EVENT_TYPE_CODES, [
    "#c0392b", "#e67e22", "#8e44ad", "#2980b9", "#27ae60", "#16a085", "#7f8c8d"]))


_STRATEGY_COLORS = {"reduce": "#2980b9", "avoid": "#c0392b", "accept": "#7f8c8d",
                    "transfer": "#e67e22"}


_registered: set[str] = set()


def korean_font_files() -> list[Path]:
    """The NanumGothic ``.ttf`` files shipped in the ``koreanize-matplotlib`` package."""
    spec = importlib.util.find_spec("koreanize_matplotlib")  # locates, does not import
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Korean font not found: install the PyPI package "
                           "'koreanize-matplotlib' (it ships NanumGothic)")
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("fonts/*.ttf"))
    if not files:
        raise RuntimeError("koreanize-matplotlib is installed but ships no .ttf files")
    return files


def _register_fonts() -> None:
    for path in korean_font_files():
        if str(path) not in _registered:
            font_manager.fontManager.addfont(str(path))
            _registered.add(str(path))


def use_korean_font() -> str:
    """Register NanumGothic and make it matplotlib's default font (explicit global change).

    Sets ``font.family`` to NanumGothic (DejaVu Sans as per-glyph fallback) and
    ``axes.unicode_minus`` to False (NanumGothic has no U+2212 minus). Returns the family.
    """
    _register_fonts()
    mpl.rcParams["font.family"] = list(_FAMILY)
    mpl.rcParams["axes.unicode_minus"] = False
    return KOREAN_FONT


@contextmanager
def _styled(ax: Axes | None, figsize: tuple[float, float]):
    """Register fonts, apply the house style and yield an Axes (new if ``ax`` is None)."""
    _register_fonts()
    fig = _new_figure(figsize) if ax is None else None
    with mpl.rc_context(_STYLE):
        if ax is None:
            ax = fig.add_subplot()
        yield ax
        _fontify(ax)


def _new_figure(figsize: tuple[float, float]):
    """A pyplot figure (so notebooks show it), created OUTSIDE ``rc_context``: the first
    figure activates the notebook backend, which must not be undone when the context ends."""
    import matplotlib.pyplot as plt
    return plt.figure(figsize=figsize, layout="constrained")


def _fontify(ax: Axes) -> None:
    """Set the Korean font family on every text of ``ax`` (titles, ticks, legend, notes)."""
    for t in ax.findobj(Text):
        t.set_fontfamily(_FAMILY)


def _num(v: float, _pos=None) -> str:
    """Plain number for 억원 axes: 0.1, 1, 10, 1,000 (no scientific notation)."""
    if v == 0:
        return "0"
    digits = max(0, -int(np.floor(np.log10(abs(v)) + 1e-9)))
    return format_number(v, digits)


def _cell(v: float) -> str:
    """Short 억원 annotation: 1,234 / 12 / 2.3 / 0.45."""
    v = round(v, 2)
    return f"{v:,.0f}" if v >= 10 else (f"{v:.1f}" if v >= 1 else f"{v:.2f}")


def _subs(values) -> tuple[float, ...]:
    """Log-axis tick multiples: 1-2-5 for ranges under ~2.5 decades, else powers of 10."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return (1.0, 2.0, 5.0) if v.size and v.max() / v.min() < 300 else (1.0,)


def _log_eok_axis(axis, subs: tuple[float, ...] = (1.0,)) -> None:
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(_num))
    axis.set_minor_formatter(NullFormatter())
