"""The built book as a reader sees it: every page opened in headless Chromium.

``tools/check_book.py`` serves the HTML on 127.0.0.1 and reports, per page: error outputs,
images that do not load, formulas MathJax did not typeset, missing assets, requests that
leave localhost, JavaScript errors, content wider than the column, broken internal links
and a Colab button that does not point at the page's notebook.

* ``test_the_built_book_passes_every_browser_check`` checks the real build. It needs the
  book: set ``BOOK_HTML`` to the HTML folder (CI does, after its smoke build), or build
  ``_build/html`` first; without either it is skipped, saying so.
* The ``slow`` tests build a tiny book with the project's ``_config.yml``, ``_ext`` and
  ``_static``, with one clean page, one clean notebook and one page per planted defect, and
  assert that the checker reports each defect on its page and nothing on the clean ones.

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
                                   screenshots=shots, shoot=("intro.html", chapter))
    lines = [f"{page}: {problem}" for page, problems in report.items() for problem in problems]
    assert not lines, f"{len(lines)} problems on {len(report)} pages:\n" + "\n".join(lines)
    for page in ("intro.html", chapter):
        png = shots / (page.replace("/", "__").removesuffix(".html") + ".png")
        assert png.is_file() and png.stat().st_size > 10_000, f"no screenshot {png}"


# ---------------------------------------------------------------- planted defects (slow)

def _png() -> str:
    """A real 40x20 PNG, base64 (a notebook's image output)."""
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (30, 120, 200)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _notebook(path: Path, outputs: list) -> None:
    cell = nbformat.v4.new_code_cell("x = 1 + 1\nx", outputs=outputs, execution_count=1)
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"# {path.stem}\n\nA formula: $a^2 + b^2$."),
               cell],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nbformat.write(nb, path)


# page -> (how it is written, what the checker must say about it)
PLANTED = {
    "missing_image": ("# Missing image\n\n<img src='_static/no-such-figure.png' alt='x'>\n",
                      ["image does not load", "HTTP 404"]),
    "bad_formula": ("# Bad formula\n\nMathJax rejects $\\left( x + 1$ (no `\\right`).\n",
                    ["formula: MathJax error"]),
    "cdn_script": ("# CDN script\n\n<script src='https://cdn.jsdelivr.net/npm/left-pad'>"
                   "</script>\n\nText.\n", ["request leaves localhost"]),
    "error_output": (None, ["error output"]),
}


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
    _notebook(book / "good.ipynb", [nbformat.v4.new_output(
        "display_data", data={"image/png": _png(), "text/plain": "<Figure>"})])
    _notebook(book / "error_output.ipynb", [nbformat.v4.new_output(
        "error", ename="RuntimeError", evalue="planted",
        traceback=["Traceback (most recent call last)", "RuntimeError: planted"])])
    for name, (text, _) in PLANTED.items():
        if text is not None:
            (book / f"{name}.md").write_text(text)
    pages = ["good", *PLANTED]
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
    return check_book.check_book(tiny_book, repo, screenshots=tiny_book.parent / "browser",
                                 shoot=("intro.html",))


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(PLANTED))
def test_the_checker_reports_a_planted_defect(tiny_report, page):
    problems = tiny_report.get(f"{page}.html", [])
    for expected in PLANTED[page][1]:
        assert any(expected in p for p in problems), (
            f"{page}.html: expected a problem containing {expected!r}, got {problems}")


@pytest.mark.slow
def test_the_checker_passes_the_clean_pages_of_the_same_book(tiny_report, tiny_book):
    """Control: the clean landing page and notebook (image, formula, Colab button) pass, so a
    checker that fails everything does not pass the test above."""
    for page in ("intro.html", "good.html", "genindex.html", "search.html"):
        assert page not in tiny_report, f"{page}: {tiny_report[page]}"
    assert (tiny_book.parent / "browser" / "intro.png").is_file()


@pytest.mark.slow
def test_the_checker_reports_a_colab_button_for_another_repository(tiny_book):
    _need_browser()
    other = {"url": "https://github.com/someone/else", "branch": "main", "path_to_book": ""}
    report = check_book.check_book(tiny_book, other, pages=["good.html"])
    expected = "https://colab.research.google.com/github/someone/else/blob/main/good.ipynb"
    assert any(expected in p for p in report.get("good.html", [])), report


def test_colab_url_is_the_notebook_under_the_configured_repository():
    repo = {"url": "https://github.com/o/r", "branch": "dev", "path_to_book": "book"}
    assert (check_book.colab_url(repo, "chapters/01_x.ipynb")
            == "https://colab.research.google.com/github/o/r/blob/dev/book/chapters/01_x.ipynb")


def test_repository_names_the_missing_url(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("title: x\n")
    with pytest.raises(ValueError, match="repository.url"):
        check_book.repository(config)
