"""The workshop deck: offline slides, HTML report and PDF; the seed's worked example; Excel.

The deck is built once per module (the notebook is executed, about 10-15 s) into a temporary
folder. Browser checks drive Debian's /usr/bin/chromium through playwright with every
non-file request aborted and recorded; screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser

import nbformat
import pytest

from opwb.insurance.policy import Policy, layer_split
from opwb.report.deck import DECK_NOTEBOOK, build, remote_references, remote_references_in_html

HANGUL = re.compile(r"[\uac00-\ud7a3]")


TITLE = "은행 보험전략 수립을 통한 운영리스크 효율적 이전"


class _Sections(HTMLParser):
    """Counts leaf <section> elements (one reveal.js slide each)."""

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open section: has a child section
        self.leaves = 0

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            if self.stack:
                self.stack[-1] = True
            self.stack.append(False)

    def handle_endtag(self, tag):
        if tag == "section":
            self.leaves += not self.stack.pop()


def count_slides(html: str) -> int:
    parser = _Sections()
    parser.feed(html)
    return parser.leaves


@pytest.fixture(scope="module")
def deck(tmp_path_factory, bundled_notebook_runs):
    """The deck of the bundled case: notebook 05 as the session executed it with its
    defaults (tests/conftest.py), exported by ``build``."""
    out = tmp_path_factory.mktemp("deck")
    return build(out, executed=bundled_notebook_runs[DECK_NOTEBOOK.name])


# -- the seed's worked example (DOMAIN.md, seed slide 1-4) ------------------------------------

@pytest.mark.parametrize("deductible, limit, insurance, expense, capital", [
    (0.0, 0.0, 0.0, 0.0, 1000e8),          # case 1: no insurance, all on capital
    (30e8, 400e8, 400e8, 30e8, 570e8),     # case 2: insurer pays 400억, 600억 retained
    (50e8, 1000e8, 950e8, 50e8, 0.0),      # case 3: insurer pays 950억, 50억 as expense
])
def test_layer_split_reproduces_the_seed_cases(deductible, limit, insurance, expense, capital):
    split = layer_split(1000e8, Policy(deductible=deductible, limit=limit))
    assert split["insurance"] == insurance
    assert split["expense"] == expense and split["capital"] == capital
    assert split["retained"] == 1000e8 - insurance
    assert split["insurance"] + split["expense"] + split["capital"] == split["gross"]


# -- the notebook --------------------------------------------------------------------------------

def test_deck_notebook_cells_are_slide_tagged_with_korean_titles():
    nb = nbformat.read(DECK_NOTEBOOK, as_version=4)
    types = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    assert None not in types, "every cell needs slideshow.slide_type"
    slides = [c for c in nb.cells if c.metadata["slideshow"]["slide_type"] == "slide"]
    assert len(slides) >= 8
    for cell in slides:
        assert cell.cell_type == "markdown" and cell.source.lstrip().startswith("#")
        assert HANGUL.search(cell.source.splitlines()[0]), cell.source.splitlines()[0]


# -- offline HTML -------------------------------------------------------------------------------

def test_detector_finds_the_cdn_assets_of_nbconverts_default_template(deck):
    """Without opwb's templates nbconvert loads reveal.js, require.js etc. from CDNs."""
    from nbconvert import SlidesExporter

    nb = nbformat.read(DECK_NOTEBOOK, as_version=4)
    html, _ = SlidesExporter().from_notebook_node(nb)
    found = remote_references_in_html(html)
    assert any("reveal.js" in u for u in found) and any("require" in u for u in found), found
    css = '<style>@import url("https://fonts.googleapis.com/css?family=Lato");' \
          ' .a { background: url(//cdn.example/x.png) } .b { background: url(data:x) }</style>'
    assert remote_references_in_html(css) == ["https://fonts.googleapis.com/css?family=Lato",
                                              "//cdn.example/x.png"]


def test_slides_and_report_reference_nothing_remote(deck):
    for key in ("slides", "html"):
        assert remote_references(deck[key]) == [], key
    slides = deck["slides"].read_text(encoding="utf-8")
    assert 'src="reveal.js/dist/reveal.js"' in slides
    assert 'href="reveal.js/dist/reveal.css"' in slides
    for name in ("dist/reveal.js", "dist/reveal.css", "dist/theme/serif.css", "LICENSE"):
        assert (deck["slides"].parent / "reveal.js" / name).is_file(), name
    assert TITLE in slides


def test_report_hides_code_and_shows_results(deck):
    report = deck["html"].read_text(encoding="utf-8")
    assert TITLE in report
    assert "load_losses(" not in report
    assert not re.search(r'class="[^"]*jp-InputArea-editor', report)  # no code input
    assert "CD-2005-001" in report and "950억원" in report  # live tables are there


# -- browser ------------------------------------------------------------------------------------

@pytest.mark.browser
def test_slides_work_offline_in_chromium(deck, chromium, artifacts_dir):
    slides = deck["slides"]
    n_slides = count_slides(slides.read_text(encoding="utf-8"))
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(slides.as_uri())
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20_000)
    assert page.evaluate("Reveal.getTotalSlides()") == n_slides
    assert page.evaluate("Reveal.getIndices().h") == 0
    page.screenshot(path=str(artifacts_dir / "deck_slide_01.png"))
    page.keyboard.press("ArrowRight")
    page.wait_for_function("Reveal.getIndices().h === 1", timeout=5_000)
    page.keyboard.press("ArrowRight")
    page.wait_for_function("Reveal.getIndices().h === 2", timeout=5_000)
    page.screenshot(path=str(artifacts_dir / "deck_slide_03.png"))
    # the Korean title is drawn with a CJK-capable font (not boxes from a Latin fallback)
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "section.present h2"})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    assert HANGUL.search(page.inner_text("section.present h2"))
    assert fonts and all(re.search(r"Nanum|CJK", f["familyName"]) for f in fonts), fonts
    assert page.evaluate("Array.from(document.fonts).every(f => f.status !== 'error')")
    # the title slide names no command lines or file paths; no slide shows raw printed
    # output (monospace); the deck ends with the recommendation
    title = page.inner_text("section >> nth=0")
    assert "python -m" not in title and "data/" not in title and ".csv" not in title
    assert page.locator("section .jp-RenderedText pre, section .output_stream pre").count() == 0
    page.evaluate(f"Reveal.slide({n_slides - 1})")
    page.wait_for_function(f"Reveal.getIndices().h === {n_slides - 1}", timeout=5_000)
    page.wait_for_timeout(300)
    last = page.inner_text("section.present")
    assert "권고" in page.inner_text("section.present h2") and "보상한도" in last
    assert re.search(r"± [\d,.]+억원", last), last[:300]
    # the same answer as the app and the API give on the shared specification: the one on
    # the predictive model, with its share of worlds and break-even premium
    import opwb
    from opwb.scenarios import DEFAULT_SPEC
    robust = opwb.predictive_answer(DEFAULT_SPEC)
    assert robust.answer.appetite.max_premium == 70 * 1e8
    assert " ".join(robust.sentence_ko(True).split()) in " ".join(last.split())
    assert "손익분기 보험료" in last and "에서 가장 유리" in last
    page.screenshot(path=str(artifacts_dir / "deck_slide_last.png"))
    context.close()
    assert blocked == [], f"the slides tried to load remote resources: {blocked}"
    assert errors == [], errors


# -- PDF ----------------------------------------------------------------------------------------

def test_pdf_has_one_page_per_slide_and_embeds_a_korean_font(deck):
    n_slides = count_slides(deck["slides"].read_text(encoding="utf-8"))
    info = subprocess.run(["pdfinfo", str(deck["pdf"])], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages == n_slides
    fonts = subprocess.run(["pdffonts", str(deck["pdf"])], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    korean = [line for line in fonts if re.search(r"Nanum|CJK", line)]
    assert korean and all(" yes " in line for line in korean), fonts
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(deck["pdf"]), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert TITLE in " ".join(first.split())


def test_build_rejects_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="docx"):
        build(tmp_path, formats=("slides", "docx"))
