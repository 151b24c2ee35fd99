"""The book's Sphinx extensions (_ext/): buttons, scripts per page, slim pages, lossless PNGs,
search spelling. (What a reader's browser then shows is tested in tests/browser.)"""
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sphinx.builders.html._assets import _JavaScript

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import book_pages  # noqa: E402
import book_search  # noqa: E402
import offline_assets  # noqa: E402

THEBE = "const THEBE_JS_URL = 'x'"


def test_dedupe_scripts_treats_none_and_empty_file_names_as_the_same_inline_script():
    scripts = [_JavaScript(None, body=THEBE, priority=500), _JavaScript("a.js"),
               _JavaScript("", body=THEBE, priority=500), _JavaScript("a.js")]
    kept = book_pages.dedupe_scripts(scripts)
    assert kept == [scripts[0], scripts[1]]


def test_dedupe_scripts_keeps_different_inline_scripts():
    scripts = [_JavaScript("", body="var a = 1"), _JavaScript("", body="var b = 2")]
    assert book_pages.dedupe_scripts(scripts) == scripts


def test_page_context_dedupes_in_place():
    scripts = [_JavaScript(None, body=THEBE), _JavaScript("", body=THEBE), _JavaScript("a.js")]
    same_list = scripts
    book_pages._page_context(None, "p", "page.html", {"script_files": scripts}, None)
    assert scripts is same_list and [s.filename or "" for s in scripts] == ["", "a.js"]


LAUNCH = {"colab_url": "https://colab.research.google.com", "notebook_interface": "classic"}


def test_no_repository_means_no_colab_and_no_repository_button():
    options = book_pages.buttons_for({"repository_url": "", "launch_buttons": dict(LAUNCH),
                                      "use_repository_button": True})
    assert options["launch_buttons"] == {}
    assert not any(options[b] for b in book_pages.BUTTONS)


def test_a_repository_gets_its_colab_and_repository_buttons():
    options = book_pages.buttons_for({"repository_url": "https://github.com/me/fork",
                                      "launch_buttons": dict(LAUNCH)})
    assert options["launch_buttons"] == LAUNCH and options["use_repository_button"] is True


PAGE = """<head>
  <script defer src="../_static/scripts/fontawesome.js?digest=abc"></script>
  <script src="../_static/searchtools.js"></script>
    <script src="../_static/language_data.js"></script>
    <script src="../searchindex.js"></script>
  <script src="../_static/book.js"></script>
</head>"""


def test_slim_page_drops_the_icon_script_everywhere_and_the_search_index_off_the_search_page():
    slim = offline_assets.slim_page(PAGE, is_search_page=False)
    assert "fontawesome.js" not in slim and "searchindex.js" not in slim
    assert "searchtools.js" not in slim and "language_data.js" not in slim
    assert '<script src="../_static/book.js"></script>' in slim
    search = offline_assets.slim_page(PAGE, is_search_page=True)
    assert "fontawesome.js" not in search
    assert "searchindex.js" in search and "searchtools.js" in search


def _png(array, mode):
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def test_lossless_png_is_smaller_with_identical_pixels():
    rng = np.random.default_rng(0)
    # An opaque figure with a few colours: the alpha channel and most colour data can go.
    palette = rng.integers(0, 256, size=(40, 4), dtype=np.uint8)
    palette[:, 3] = 255
    image = palette[rng.integers(0, 40, size=(120, 200))]
    data = _png(image, "RGBA")
    smaller = offline_assets.lossless_png(data)
    assert len(smaller) < len(data)
    assert np.array_equal(_pixels(smaller), _pixels(data))


def test_lossless_png_keeps_transparency_and_many_colours_exactly():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(60, 60, 4), dtype=np.uint8)  # > 256 colours, alpha varies
    data = _png(image, "RGBA")
    assert np.array_equal(_pixels(offline_assets.lossless_png(data)), _pixels(data))


def test_only_the_mathjax_components_the_book_loads_are_shipped():
    source = offline_assets.mathjax_dir()
    if source is None:
        pytest.skip("sphinx-mathjax-offline is not installed")
    for component in offline_assets.MATHJAX_LOAD:
        assert any(name.startswith(component) for name in offline_assets.MATHJAX_FILES)
    shipped = sum(f.stat().st_size for name in ("startup.js", "core.js", "input/tex.js",
                                                "output/chtml.js", "output/chtml/fonts/tex.js",
                                                "a11y/assistive-mml.js")
                  for f in [source / name])
    assert shipped < 0.7 * (source / "tex-chtml.js").stat().st_size  # 0.76 MB vs 1.16 MB
    assert "ui/menu.js" not in offline_assets.MATHJAX_FILES


@pytest.mark.parametrize("british, american", [
    ("reparameterisation", "reparameterization"), ("quantisation", "quantization"),
    ("quantised", "quantized"), ("colour", "color"), ("behaviour", "behavior"),
    ("analyse", "analyze"), ("rise", "rise"), ("four", "four"), ("your", "your")])
def test_search_reads_british_spellings_as_american(british, american):
    assert book_search.american(british) == american
    lang = book_search.BookEnglish({})
    assert lang.stem(british) == lang.stem(american)


def test_the_javascript_stemmer_applies_the_same_spelling_rules():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    words = ["reparameterisation", "Quantisation", "colour", "analysed", "rise", "four"]
    script = book_search.JS_STEMMER + (
        "\nvar s = new Stemmer();\nconsole.log(JSON.stringify("
        + repr(words).replace("'", '"') + ".map(function (w) { return s.stemWord(w.toLowerCase()); })));")
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lang = book_search.BookEnglish({})
    assert out.stdout.strip() == str([lang.stem(w) for w in words]).replace("'", '"').replace(", ", ",")
