"""The built book as a reader sees it: every page opened in headless Chromium, at desktop and
phone width, in light and dark mode.

``tools/check_book.py`` serves the HTML on 127.0.0.1 and reports, per page: error outputs,
images that do not load, formulas MathJax did not typeset or that are cut off, missing
assets, requests that leave localhost, JavaScript errors, content wider than the column or
the phone's screen, text hard to read in either colour mode, figures without a caption or
descriptive alt text, saved widgets that are not visibly disabled, broken internal links,
Colab and repository buttons that do not match ``_config.yml``, chapter pages heavier than
3 MB, and search results that miss a page or show raw markup.

* ``test_the_built_book_passes_every_browser_check`` checks the real build. It needs the
  book: set ``BOOK_HTML`` to the HTML folder (CI does, after its smoke build), or build
  ``_build/html`` first; without either it is skipped, saying so.
* The ``slow`` tests build a tiny book with the project's ``_config.yml``, ``_ext`` and
  ``_static``, with clean pages and one page per planted defect, and assert that the checker
  reports each defect on its page (in the pass where it shows) and nothing on the clean ones.
* The rest test the checker's rules on plain strings.

Chromium: Debian's ``chromium`` at ``/usr/bin/chromium`` (or ``$CHROMIUM``), driven by the
``playwright`` package; no browser is downloaded.
"""
import base64
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import check_book  # noqa: E402

BOOK_HTML = os.environ.get("BOOK_HTML")


def _need_browser():
    """Skip (outside CI) or fail (when BOOK_HTML asks for the check) without a browser."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the `playwright` package (pip install -e '.[test]')")
    if not Path(check_book.CHROMIUM).exists():
        missing.append(f"Chromium at {check_book.CHROMIUM} (apt-get install chromium)")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if BOOK_HTML:
            pytest.fail(message)
        pytest.skip(message)


def test_the_built_book_passes_every_browser_check():
    html = Path(BOOK_HTML) if BOOK_HTML else ROOT / "_build" / "html"
    if not (html / "index.html").is_file():
        if BOOK_HTML:
            pytest.fail(f"BOOK_HTML={BOOK_HTML} has no index.html: build the book first")
        pytest.skip(f"no built book at {html}: run `make book` (or set BOOK_HTML) first; "
                    "CI runs this test after its smoke build")
    _need_browser()
    shots = html.resolve().parent / "browser"
    pages = check_book.book_pages(html)
    chapter = next(p for p in pages if p.startswith("chapters/"))
    report = check_book.check_book(html, check_book.repository(ROOT / "_config.yml"),
                                   screenshots=shots, shoot=("intro.html", chapter),
                                   search=check_book.SEARCH_QUERIES)
    lines = [f"{page}: {problem}" for page, problems in report.items() for problem in problems]
    assert not lines, f"{len(lines)} problems on {len(report)} pages:\n" + "\n".join(lines)
    for page in ("intro.html", chapter):
        for viewport, mode in check_book.PASSES:
            png = shots / check_book.shot_name(page, viewport, mode)
            assert png.is_file() and png.stat().st_size > 10_000, f"no screenshot {png}"


# ---------------------------------------------------------------- the checker's rules

@pytest.mark.parametrize("caption, alt, expected", [
    ("Samples from the prior: look at the stroke width.", "a grid of 64 sampled digits", []),
    ("", "a grid of 64 sampled digits", ["no caption"]),
    ("Samples.", "a grid of digits", ["no caption"]),
    ("Samples from the prior, look at them.", "../_images/5c05316f1218bd64.png",
     ["no descriptive alt text"]),
    ("Samples from the prior, look at them.", "5c05316f1218bd6464e3fef8063eaafb",
     ["no descriptive alt text"]),
    ("Samples from the prior, look at them.", "", ["no descriptive alt text"]),
    ("Samples from the prior, look at them.", "digits", ["no descriptive alt text"]),
    ("The gap against k.", "a dotted 1/k line down to 0.001 nats", []),   # a '/' in a sentence
    ("Samples from the prior, look at them.", "_images/a.png", ["no descriptive alt text"]),
    ("Samples from the prior, look at them.", "a figure at images\\fig1.png",
     ["no descriptive alt text"]),
])
def test_figure_rules(caption, alt, expected):
    assert check_book.figure_problems(caption, alt) == expected


@pytest.mark.parametrize("snippet, raw", [
    ("…the reparameterisation trick lets gradients flow through z = μ + σ ε…", False),
    ("…x = fashion.test.x[:12].to(device) panels = [(x, 'test')]…", False),
    (r"…Bernoulli means \(m_i\), in nats…", True),
    (r"…\|\,p(z)\big)}_{\text{KL}} \;\ge…", True),
    ("…costs $2$ nats…", True),
    ('…{"state": {"941c": {"model_name": "LayoutModel"…', True),
])
def test_snippet_rules(snippet, raw):
    assert bool(check_book.snippet_problems(snippet)) == raw


def test_screenshot_names_keep_the_first_pass_plain():
    assert check_book.shot_name("intro.html", "desktop", "light") == "intro.png"
    assert (check_book.shot_name("chapters/06_x.html", "phone", "dark")
            == "chapters__06_x-phone-dark.png")


def test_colab_url_is_the_notebook_under_the_configured_repository():
    repo = {"url": "https://github.com/o/r", "branch": "dev", "path_to_book": "book"}
    assert (check_book.colab_url(repo, "chapters/01_x.ipynb")
            == "https://colab.research.google.com/github/o/r/blob/dev/book/chapters/01_x.ipynb")


def test_repository_names_the_missing_url(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("title: x\n")
    with pytest.raises(ValueError, match="repository.url"):
        check_book.repository(config)


def test_no_public_repository_means_any_button_is_a_problem(tmp_path):
    none = {"url": "", "branch": "main", "path_to_book": ""}
    assert check_book._button_problems(tmp_path, "chapters/01.html", [], [], none) == []
    found = check_book._button_problems(tmp_path, "chapters/01.html",
                                        ["https://colab.research.google.com/github/a/b/x"],
                                        ["https://github.com/a/b"], none)
    assert len(found) == 2 and all("names no repository" in p for p in found)


# ---------------------------------------------------------------- planted defects (slow)

def _png(width=40, height=20, noise=False) -> str:
    """A real PNG, base64 (a notebook's image output); ``noise``: incompressible pixels."""
    from PIL import Image
    buffer = io.BytesIO()
    if noise:
        pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    else:
        Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


FIGURE = {"mystnb": {"figure": {"caption": "A blue box: look at its colour, nothing else.",
                                "name": "fig-tiny-box"},
                     "image": {"alt": "a plain blue rectangle, twice as wide as it is tall"}}}
SLIDER_ID = "aaaa1111"
WIDGETS = {"application/vnd.jupyter.widget-state+json": {
    "version_major": 2, "version_minor": 0,
    "state": {SLIDER_ID: {"model_name": "IntSliderModel",
                          "model_module": "@jupyter-widgets/controls",
                          "model_module_version": "2.0.0",
                          "state": {"description": "n", "value": 3, "min": 0, "max": 10,
                                    "step": 1, "readout_format": "d"}}}}}


def _notebook(path: Path, outputs: list, cell_metadata=None, metadata=None,
              text="A formula: $a^2 + b^2$.") -> None:
    cell = nbformat.v4.new_code_cell("x = 1 + 1\nx", outputs=outputs, execution_count=1,
                                     metadata=cell_metadata or {})
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"# {path.stem}\n\n{text}"), cell],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}, **(metadata or {})})
    nbformat.write(nb, path)


LONG_SUM = " + ".join(f"a_{{{i}}}" for i in range(40))
CLIPPED = f"""# Clipped formulas

<style>
.clipinline span.math {{ display: inline-flex !important; overflow: hidden !important; }}
.clipinline mjx-container {{ display: block !important; }}
.clipinline mjx-math {{ display: inline-block !important; white-space: nowrap !important; }}
.nocue mjx-container {{ background: none !important; }}
</style>

```{{container}} clipinline
An inline sum, cut off by its box: ${LONG_SUM}$.
```

```{{math}}
:class: nocue
{LONG_SUM}
```
"""

# page -> (how it is written, what the checker must say about it)
PLANTED = {
    "missing_image": ("# Missing image\n\n<img src='_static/no-such-figure.png' alt='x'>\n",
                      ["image does not load", "HTTP 404"]),
    "bad_formula": ("# Bad formula\n\nMathJax rejects $\\left( x + 1$ (no `\\right`).\n",
                    ["formula: MathJax error"]),
    "cdn_script": ("# CDN script\n\n<script src='https://cdn.jsdelivr.net/npm/left-pad'>"
                   "</script>\n\nText.\n", ["request leaves localhost"]),
    "error_output": (None, ["error output"]),
    "bare_figure": (None, ["has no caption", "has no descriptive alt text"]),
    "heavy": (None, ["first visit transfers"]),
    "live_widget": ("# A live widget\n\n<div class='jupyter-widgets'><input type='range'>"
                    "</div>\n", ["a widget manager drew a control"]),
    "wide_box": ("# Wide box\n\n<div style='width: 600px; border: 1px solid'>A fixed-width "
                 "box.</div>\n", ["[phone light] page is", "because of <div"]),
    "dark_text": ("# Dark text\n\n<p style='color: #202020'>Text in a fixed dark grey.</p>\n",
                  ["[desktop dark] hard to read (dark mode)", "[phone dark] hard to read"]),
    "clipped": (CLIPPED, ["[phone light] formula: inline formula cut off",
                          "formula: display formula scrolls with no visible cue"]),
}
CLEAN = ("intro.html", "good.html", "widget.html", "long_math.html", "genindex.html",
         "search.html")


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    """A tiny book built with the project's config, extensions and CSS; its HTML folder."""
    book = tmp_path_factory.mktemp("book")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"  # the notebooks carry their outputs
    (book / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name in [*((config.get("sphinx") or {}).get("local_extensions") or {}).values(),
                 "_static"]:
        if (ROOT / name).is_dir() and not (book / name).exists():
            shutil.copytree(ROOT / name, book / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
    (book / "intro.md").write_text("# Tiny book\n\nA clean page with $x^2$ and a "
                                   "[link](good.ipynb).\n\n```{tableofcontents}\n```\n")
    image = {"image/png": _png(), "text/plain": "<Figure>"}
    _notebook(book / "good.ipynb", [nbformat.v4.new_output("display_data", data=image)],
              cell_metadata=FIGURE,
              text="The reparameterisation trick writes $z = \\mu + \\sigma \\varepsilon$ "
                   "with $\\varepsilon \\sim \\mathcal N(0, I)$.")
    _notebook(book / "bare_figure.ipynb", [nbformat.v4.new_output("display_data", data=image)])
    _notebook(book / "heavy.ipynb", [nbformat.v4.new_output("display_data", data={
        "image/png": _png(1100, 1000, noise=True), "text/plain": "<Figure>"})],
        cell_metadata=FIGURE)
    _notebook(book / "widget.ipynb", [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"version_major": 2, "version_minor": 0,
                                                     "model_id": SLIDER_ID},
        "text/plain": "IntSlider(value=3)"})], metadata={"widgets": WIDGETS})
    _notebook(book / "error_output.ipynb", [nbformat.v4.new_output(
        "error", ename="RuntimeError", evalue="planted",
        traceback=["Traceback (most recent call last)", "RuntimeError: planted"])])
    (book / "long_math.md").write_text(
        f"# Long formulas\n\nA long inline sum, ${LONG_SUM}$, wraps on a phone.\n\n"
        f"$$\n{LONG_SUM}\n$$\n\nThe display sum scrolls, with shadows at its edges.\n")
    for name, (text, _) in PLANTED.items():
        if text is not None:
            (book / f"{name}.md").write_text(text)
    pages = ["good", "widget", "long_math", *PLANTED]
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   + "".join(f"  - file: {p}\n" for p in pages))
    exe = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(exe if exe.exists() else "jupyter-book"), "build", str(book)],
                            cwd=book, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return book / "_build" / "html"


@pytest.fixture(scope="module")
def tiny_report(tiny_book):
    _need_browser()
    repo = check_book.repository(ROOT / "_config.yml")
    return check_book.check_book(
        tiny_book, repo, screenshots=tiny_book.parent / "browser",
        shoot=("intro.html", "widget.html"), budget_pages=lambda page: True,
        search={"reparameterization": ("good.html",), "nosuchwordanywhere": ("good.html",)})


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(PLANTED))
def test_the_checker_reports_a_planted_defect(tiny_report, page):
    problems = tiny_report.get(f"{page}.html", [])
    for expected in PLANTED[page][1]:
        assert any(expected in p for p in problems), (
            f"{page}.html: expected a problem containing {expected!r}, got {problems}")


@pytest.mark.slow
def test_the_checker_passes_the_clean_pages_of_the_same_book(tiny_report, tiny_book):
    """Control: the clean pages pass in every pass: a captioned figure with alt text, a saved
    widget (drawn disabled), a long inline formula (wrapped on a phone) and a long display
    formula (scrolling, with a cue), no Colab or repository button (no repository is named),
    each page under 3 MB; so a checker that fails everything does not pass the test above."""
    for page in CLEAN:
        assert page not in tiny_report, f"{page}: {tiny_report[page]}"
    for viewport, mode in check_book.PASSES:
        assert (tiny_book.parent / "browser" / check_book.shot_name("intro.html", viewport, mode)).is_file()


@pytest.mark.slow
def test_search_finds_the_british_spelling_and_reports_a_missing_result(tiny_report):
    assert "search: reparameterization" not in tiny_report, tiny_report["search: reparameterization"]
    problems = tiny_report.get("search: nosuchwordanywhere", [])
    assert any("no result on good.html" in p for p in problems), problems


@pytest.mark.slow
def test_the_checker_reports_a_colab_button_for_another_repository(tiny_book):
    _need_browser()
    other = {"url": "https://github.com/someone/else", "branch": "main", "path_to_book": ""}
    report = check_book.check_book(tiny_book, other, pages=["good.html"], passes=check_book.PASSES[:1])
    expected = "https://colab.research.google.com/github/someone/else/blob/main/good.ipynb"
    assert any(expected in p for p in report.get("good.html", [])), report


def test_transfer_size_counts_text_gzipped_and_binary_files_as_served(tmp_path):
    """The page budget counts what a static host sends: text gzip-compressed, the rest as is."""
    (tmp_path / "_static").mkdir()
    css = tmp_path / "_static" / "theme.css"
    css.write_text("body { margin: 0; }\n" * 5000)                    # 100 kB, repetitive
    blob = tmp_path / "decoder.safetensors"
    blob.write_bytes(bytes(range(256)) * 400)
    (tmp_path / "index.html").write_text("<p>hello</p>" * 1000)
    assert check_book.transfer_size(tmp_path, "/_static/theme.css?digest=1", 100_000) < 2_000
    assert check_book.transfer_size(tmp_path, "/decoder.safetensors", 102_400) == 102_400
    assert check_book.transfer_size(tmp_path, "/", 12_000) < 1_000        # index.html, gzipped
    assert check_book.transfer_size(tmp_path, "/missing.js", 777) == 777   # not a file: as served
