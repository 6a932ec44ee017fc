"""Workshop deck: offline reveal.js slides, an HTML report without code, and PDF.

Results tables go to Excel with :func:`opwb.report.excel.export_excel`.

The deck notebook (``notebooks/05_workshop_deck.ipynb``) is executed with nbclient and
exported with nbconvert. Every front-end asset comes from ``vendor/`` (reveal.js 4.6.1 from
the npm registry, MIT licence) and is copied next to the slides; require.js, jQuery,
MathJax, mermaid and jupyter-widgets, which nbconvert's templates load from CDNs, are
removed by the templates below (the deck uses none of them). The PDF is printed by headless
Chromium from ``slides.html?print-pdf``, one page per slide, with Korean text in the system
CJK font (Debian ``fonts-noto-cjk``). Nothing here needs the network.

The deck runs on a bank's case (:func:`opwb.load_case`): ``case_path`` (``--case``) is handed
to the notebook as its parameter ``case_path`` (a cell injected after the one tagged
``parameters``, as papermill does); without it the notebook opens its default case
(:func:`opwb.open_case`: ``$OPWB_CASE``, else the bundled case). The pages' ``<title>`` is
the notebook's title followed by the case's bank name; deck.py names no bank itself.

Command line::

    python -m opwb.report.deck build --out build/deck            # slides, report and PDF
    python -m opwb.report.deck build --out build/deck --no-pdf   # without Chromium
    python -m opwb.report.deck build --case bank/case.toml --out build/deck  # a bank's case

Examples
--------
>>> remote_references_in_html('<script src="https://cdn.example/x.js"></script>'
...                           '<link rel="stylesheet" href="reveal.js/dist/reveal.css">')
['https://cdn.example/x.js']
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Format", "FORMATS", "DECK_NOTEBOOK", "VENDOR_DIR", "REVEAL_DIR", "CHROMIUM",
    "inject_parameters", "execute_notebook", "deck_title",
    "export_slides", "export_html", "export_pdf",
    "build", "remote_references", "remote_references_in_html", "main",
]

Format = Literal["slides", "html", "pdf"]
FORMATS: tuple[str, ...] = ("slides", "html", "pdf")
REPO = Path(__file__).resolve().parents[2]
DECK_NOTEBOOK = REPO / "notebooks" / "05_workshop_deck.ipynb"
VENDOR_DIR = REPO / "vendor"
REVEAL_DIR = VENDOR_DIR / "reveal.js"
REVEAL_FILES = ("LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/theme/serif.css")
CHROMIUM = "/usr/bin/chromium"
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
#: Chromium flags for an offline, unattended run (no background traffic, no DNS at all).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)

# -- templates: nbconvert's, minus every CDN asset -----------------------------------------------

_FONT_STACK = '"opwb-ko", "NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", sans-serif'
_FONT_FACES = "/*@opwb-font-faces@*/"  # replaced by embedded @font-face rules after export
_BASE_CSS = _FONT_FACES + """
.jp-RenderedHTMLCommon, .jp-Notebook, body { font-family: FONTS; }
.jp-RenderedHTMLCommon table { font-size: 0.9em; }
""".replace("FONTS", _FONT_STACK)
#: NanumGothic (SIL OFL 1.1, from the koreanize-matplotlib wheel the charts use too), cut
#: down to the characters of the page and embedded as WOFF data: URLs. A TrueType face is
#: embedded in Chromium's PDF by name, whereas the CFF-based Noto CJK system fonts end up
#: as anonymous Type 3 glyphs; fonts from file:// URLs would be blocked by CORS.
EMBEDDED_FONTS = {"NanumGothic.ttf": 400, "NanumGothicBold.ttf": 700}
_SLIDES_CSS = """
html:root {
  --r-main-font: FONTS; --r-heading-font: FONTS;
  --r-main-font-size: 26px; --r-heading-color: #1f3a5f; --r-main-color: #222;
  --r-background-color: #ffffff; --r-link-color: #2a5d9f;
  --r-heading1-size: 1.9em; --r-heading2-size: 1.5em; --r-heading3-size: 1.15em;
}
.reveal h1, .reveal h2, .reveal h3 { font-weight: 700; }
.reveal .slides { text-align: left; }
.reveal section img { max-height: 470px; }
.reveal table { font-size: 0.8em; margin: 0.2em 0; }
.reveal .jp-RenderedHTMLCommon td, .reveal .jp-RenderedHTMLCommon th { padding: 0.2em 0.5em; }
.reveal .jp-OutputArea-output pre { font-size: 0.7em; }
html.print-pdf .reveal .slides .pdf-page:last-child { page-break-after: avoid; }
""".replace("FONTS", _FONT_STACK) + _BASE_CSS

_SLIDES = """{%- extends 'reveal/index.html.j2' -%}
{% block html_head_js %}{% endblock html_head_js %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}
{% block html_head_css %}<style type="text/css">""" + _SLIDES_CSS + """</style>{% endblock html_head_css %}
{% block footer_js %}
<script>
// Headless Chromium's --print-to-pdf advances virtual time with timers but draws no frames,
// so reveal.js's print layout (which awaits requestAnimationFrame) would never finish.
if (/print-pdf/i.test(window.location.search)) {
  window.requestAnimationFrame = function (cb) {
    return window.setTimeout(function () { cb(performance.now()); }, 16);
  };
}
</script>
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, center: false,
  transition: "{{ resources.reveal.transition }}",
  slideNumber: "{{ resources.reveal.number }}",
  width: {{ resources.reveal.width }}, height: {{ resources.reveal.height }},
  margin: 0, pdfMaxPagesPerSlide: 1, pdfSeparateFragments: false
});
</script>
{% endblock footer_js %}
"""

_REPORT = """{%- extends 'lab/index.html.j2' -%}
{% block html_head_js %}{% endblock html_head_js %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
{% block html_head_css %}<style type="text/css">""" + _BASE_CSS + """</style>{% endblock html_head_css %}
"""


def _loader():
    from jinja2 import DictLoader

    return DictLoader({"opwb_slides.html.j2": _SLIDES, "opwb_report.html.j2": _REPORT})


# -- execution and export -----------------------------------------------------------------------


INJECTED_TAG = "injected-parameters"


def inject_parameters(nb, parameters: Mapping[str, Any]):
    """Give a notebook parameters the way papermill does.

    A code cell tagged ``injected-parameters`` that assigns each parameter goes right after
    the first cell tagged ``parameters`` (at the top when there is none; an injected cell
    already there is replaced). It is a ``skip`` cell of the slides.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook; changed in place.
    parameters : Mapping[str, Any]
        Name → value; each value must be a Python literal (str, number, bool, None, or
        lists, tuples and dicts of those).

    Returns
    -------
    nbformat.NotebookNode
        ``nb``.

    Raises
    ------
    ValueError
        For a name that is not an identifier or a value that is not a literal.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "case_path = None", metadata={"tags": ["parameters"]})])
    >>> print(inject_parameters(nb, {"case_path": "/banks/a/case.toml"}).cells[1].source)
    # Parameters
    case_path = '/banks/a/case.toml'
    """
    import nbformat

    lines = ["# Parameters"]
    for name, value in parameters.items():
        if not str(name).isidentifier():
            raise ValueError(f"notebook parameter name {name!r} is not an identifier")
        text = repr(value)
        try:
            ok = ast.literal_eval(text) == value
        except (ValueError, SyntaxError):
            ok = False
        if not ok:
            raise ValueError(f"notebook parameter {name}={value!r} is not a Python literal")
        lines.append(f"{name} = {text}")
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={
        "tags": [INJECTED_TAG], "slideshow": {"slide_type": "skip"}})

    def tagged(tag: str) -> int:
        return next((i for i, c in enumerate(nb.cells)
                     if tag in c.get("metadata", {}).get("tags", [])), -1)

    injected, params = tagged(INJECTED_TAG), tagged("parameters")
    if injected >= 0:
        nb.cells[injected] = cell
    else:
        nb.cells.insert(params + 1, cell)  # params == -1: at the top
    return nb


def execute_notebook(path: str | Path = DECK_NOTEBOOK, *, timeout: int = 600,
                     kernel_name: str = "python3",
                     parameters: Mapping[str, Any] | None = None):
    """Run a notebook top to bottom (nbclient, working directory = its folder); return it.

    Parameters
    ----------
    path : str or Path
        The notebook; default the deck notebook.
    timeout : int
        Seconds a cell may run.
    kernel_name : str
        The Jupyter kernel.
    parameters : Mapping[str, Any], optional
        Notebook parameters, injected as papermill does (:func:`inject_parameters`), e.g.
        ``{"case_path": "/abs/case.toml"}``. None or empty: the notebook's own values.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook (the file is not changed).
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if parameters:
        inject_parameters(nb, parameters)
    NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def deck_title(nb, bank: str | None = None) -> str:
    """The pages' title: the notebook's ``title`` metadata (else its first markdown heading,
    else ``"Workshop deck"``), followed by ``bank`` unless it already names it.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(metadata={"title": "운영리스크 보험전략 워크숍"})
    >>> deck_title(nb, "가나은행")
    '운영리스크 보험전략 워크숍 — 가나은행'
    """
    title = str(nb.metadata.get("title") or "").strip()
    if not title:
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                m = re.search(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", cell.source, re.M)
                if m:
                    title = m.group(1).strip()
                    break
    title = title or "Workshop deck"
    if bank and bank not in title:
        title = f"{title} — {bank}"
    return title


def _copy_reveal(out_dir: Path) -> Path:
    missing = [f for f in REVEAL_FILES if not (REVEAL_DIR / f).is_file()]
    if missing:
        raise FileNotFoundError(f"vendored reveal.js incomplete in {REVEAL_DIR}: missing {missing}")
    target = out_dir / "reveal.js"
    for name in REVEAL_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REVEAL_DIR / name, target / name)
    return target


def _font_dir() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "fonts"
    return folder if folder.is_dir() else None


def _embed_fonts(html: str) -> str:
    """Replace the font placeholder by @font-face rules with subset NanumGothic data: URLs.

    Without the koreanize-matplotlib fonts the placeholder is simply removed (the system
    fonts then serve Korean text).
    """
    import base64
    import io

    folder = _font_dir()
    rules = []
    if folder is not None:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        text = {ord(c) for c in html} | set(range(0x20, 0x7F))
        for name, weight in EMBEDDED_FONTS.items():
            if not (folder / name).is_file():
                continue
            options = subset.Options()
            options.flavor = "woff"
            options.drop_tables += ["TSI0", "TSI1", "TSI2", "TSI3", "TSI5", "DSIG"]
            font = TTFont(folder / name)
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=text)
            subsetter.subset(font)
            buf = io.BytesIO()
            font.flavor = "woff"
            font.save(buf)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            rules.append(f'@font-face {{ font-family: "opwb-ko"; font-weight: {weight}; '
                         f'src: url(data:font/woff;base64,{data}) format("woff"); }}')
    return html.replace(_FONT_FACES, "\n".join(rules))


def export_slides(nb, out_dir: str | Path, *, name: str = "slides.html") -> Path:
    """Write reveal.js slides (code hidden) to ``out_dir/name`` with reveal.js copied beside."""
    from nbconvert import SlidesExporter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_reveal(out_dir)
    exporter = SlidesExporter(
        extra_loaders=[_loader()], template_file="opwb_slides.html.j2",
        reveal_url_prefix="reveal.js", reveal_theme="serif", reveal_transition="none",
        reveal_number="c/t", reveal_width=str(SLIDE_WIDTH), reveal_height=str(SLIDE_HEIGHT),
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"language_code": "ko"})
    body = _embed_fonts(body)
    path = out_dir / name
    path.write_text(body, encoding="utf-8")
    return path


def export_html(nb, out_dir: str | Path, *, name: str = "report.html") -> Path:
    """Write a standalone HTML report of the executed notebook with every code cell hidden."""
    from nbconvert import HTMLExporter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(extra_loaders=[_loader()], template_file="opwb_report.html.j2",
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"language_code": "ko"})
    body = _embed_fonts(body)
    path = out_dir / name
    path.write_text(body, encoding="utf-8")
    return path


def export_pdf(slides: str | Path, pdf: str | Path | None = None, *,
               chromium: str = CHROMIUM, timeout: float = 120.0) -> Path:
    """Print ``slides.html?print-pdf`` to PDF with headless Chromium, one page per slide."""
    slides = Path(slides).resolve()
    pdf = slides.with_suffix(".pdf") if pdf is None else Path(pdf).resolve()
    if not Path(chromium).exists():
        raise FileNotFoundError(f"Chromium not found at {chromium} (apt-get install chromium)")
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="opwb-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
               "--virtual-time-budget=15000", f"--print-to-pdf={pdf}",
               slides.as_uri() + "?print-pdf"]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no PDF (exit {run.returncode}):\n{run.stderr[-2000:]}")
    return pdf


def build(out_dir: str | Path = "build/deck", *, notebook: str | Path = DECK_NOTEBOOK,
          formats: Iterable[Format] = FORMATS, timeout: int = 600,
          case_path: str | Path | None = None, executed=None) -> dict[str, Path]:
    """Execute the deck notebook and export it; return ``{format: path}``.

    Writes ``slides.html`` (+ ``reveal.js/``), ``report.html`` and ``slides.pdf`` into
    ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        The output folder (created).
    notebook : str or Path
        The notebook to present; default the deck notebook.
    formats : iterable of {"slides", "html", "pdf"}
        What to write (the PDF is printed from the slides).
    timeout : int
        Seconds a cell may run.
    case_path : str or Path, optional
        The bank's case file, read here first (a bad case fails before the notebook runs)
        and handed to the notebook, as an absolute path, as its parameter ``case_path``.
        None: the notebook's default case (:func:`opwb.open_case`).
    executed : nbformat.NotebookNode, optional
        ``notebook`` already executed (:func:`execute_notebook` with these parameters):
        exported as it is, not run again.

    Returns
    -------
    dict[str, Path]
        The files written, by format.

    Raises
    ------
    ValueError
        For an unknown format.
    opwb.DataError
        For a missing or invalid case file (a ``ValueError``).
    """
    from opwb.data.case import load_case, open_case

    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; expected some of {FORMATS}")
    out_dir = Path(out_dir)
    parameters: dict[str, Any] = {}
    if case_path is not None:
        case_path = Path(case_path).expanduser().resolve()  # the kernel runs elsewhere
        case = load_case(case_path)
        parameters["case_path"] = str(case_path)
    else:
        case = open_case(None)  # what the notebook opens without the parameter
    nb = (execute_notebook(notebook, timeout=timeout, parameters=parameters)
          if executed is None else copy.deepcopy(executed))
    nb.metadata["title"] = deck_title(nb, case.name)
    out: dict[str, Path] = {}
    if "slides" in formats or "pdf" in formats:
        out["slides"] = export_slides(nb, out_dir)
    if "html" in formats:
        out["html"] = export_html(nb, out_dir)
    if "pdf" in formats:
        out["pdf"] = export_pdf(out["slides"], out_dir / "slides.pdf")
    return out


# -- checking for remote references -------------------------------------------------------------

_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.IGNORECASE)


def _is_remote(url: str) -> bool:
    """True for ``http(s)://``, ``//host`` and any other scheme with an authority part."""
    return bool(_REMOTE.match(url)) and not url.strip().lower().startswith("file:")


def _css_urls(css: str) -> list[str]:
    return [m.group(2) if m.group(2) is not None else m.group(4) for m in _CSS_URL.finditer(css)]


class _Refs(HTMLParser):
    """Collects URLs an HTML page would load: scripts, stylesheets, images, inline CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.stylesheets: list[str] = []
        self._in = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])
            if "stylesheet" in a.get("rel", "").lower():
                self.stylesheets.append(a["href"])
        if "style" in a:
            self.urls.extend(_css_urls(a["style"]))
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = ""

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.urls.extend(_css_urls(data))
        elif self._in == "script":  # ES module imports (nbconvert's mermaid block has one)
            self.urls.extend(re.findall(r"""\bimport\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]""", data))


def remote_references_in_html(html: str) -> list[str]:
    """Remote URLs an HTML text loads (script src, link href, img src, CSS url()/@import)."""
    parser = _Refs()
    parser.feed(html)
    return [u for u in parser.urls if _is_remote(u)]


def remote_references(path: str | Path) -> list[str]:
    """Remote URLs loaded by an HTML file and by the local stylesheets it links."""
    path = Path(path)
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    found = [u for u in parser.urls if _is_remote(u)]
    for href in parser.stylesheets:
        css = path.parent / href.split("?")[0]
        if not _is_remote(href) and css.is_file():
            found += [f"{href}: {u}" for u in _css_urls(css.read_text(encoding="utf-8"))
                      if _is_remote(u)]
    return found


# -- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m opwb.report.deck build [--case PATH] [--out DIR] [--notebook NB] [--no-pdf]
    [--formats ...]``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0; a bad argument, format or case file exits with status 2 and a one-line reason.
    """
    parser = argparse.ArgumentParser(prog="python -m opwb.report.deck",
                                     description="Build the offline workshop deck.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the deck notebook; export slides, HTML, PDF")
    b.add_argument("--out", default="build/deck", help="output folder (default build/deck)")
    b.add_argument("--case", metavar="PATH", default=None,
                   help="the bank's case file (TOML; default: $OPWB_CASE, else the bundled "
                        "case), handed to the notebook as its parameter case_path")
    b.add_argument("--notebook", default=str(DECK_NOTEBOOK), help="notebook to present")
    b.add_argument("--formats", default=",".join(FORMATS),
                   help="comma-separated subset of slides,html,pdf (default all)")
    b.add_argument("--no-pdf", action="store_true", help="skip the PDF (no Chromium needed)")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if args.no_pdf:
        formats = [f for f in formats if f != "pdf"]
    try:
        paths = build(args.out, notebook=args.notebook, formats=formats, case_path=args.case)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        parser.exit(2, f"error: {err}\n")
    for fmt, path in paths.items():
        print(f"{fmt:7s} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
