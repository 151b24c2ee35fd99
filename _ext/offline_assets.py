"""Serve the book's scripts from the book itself, and only what its pages use.

A chapter page, first visit, must stay under 3 MB (``tools/check_book.py`` measures it).

* **MathJax 3** (CommonHTML output with its own TeX fonts) from the ``sphinx-mathjax-offline``
  package on PyPI (MathJax 3.2.2), so formulas render with no internet access. Only the
  components the book uses are copied and loaded (:data:`MATHJAX_FILES`): the loader, TeX
  input (rarer packages load on first use through ``autoload``), CommonHTML output and its
  fonts, and assistive MathML for screen readers: about 0.8 MB instead of ``tex-chtml.js``'s
  1.2 MB, which also carries the right-click menu (0.4 MB).
* **Saved ipywidgets get no widget manager.** ``@jupyter-widgets/html-manager`` weighs 3.6 MB
  and could only draw controls whose Python callbacks never run in a static page. The saved
  widget state stays in the page, and ``_static/book.js`` draws each saved widget as a
  disabled control with a line saying it runs live in Jupyter or Colab.
* **Theme weight.** pydata-sphinx-theme ships Font Awesome twice: as web fonts in its CSS and
  as a 1.5 MB script that redraws the same icons as SVG. Pages drop that script (the icons
  come from the web fonts), source maps nobody loads are not copied, and only the search
  page loads the search index (the search box on every page opens that page).
* **Images**: each PNG in ``_images`` is rewritten losslessly when that makes it smaller (no
  alpha channel where every pixel is opaque, a palette where it has at most 256 colours);
  the pixels stay identical (checked).
* **Progress bars** are switched off for the kernels the build starts (``TQDM_DISABLE=1``):
  a bar in a static page repeats, squashed, the summary line that ``train.fit`` prints.
"""
from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

# MathJax components the book loads (see MATHJAX_CONFIG), relative to the MathJax folder.
MATHJAX_FILES = ("startup.js", "core.js", "input/tex.js", "input/tex/extensions",
                 "output/chtml.js", "output/chtml/fonts/tex.js", "output/chtml/fonts/woff-v2",
                 "a11y/assistive-mml.js")
MATHJAX_LOAD = ["input/tex", "output/chtml", "a11y/assistive-mml"]
# Scripts removed from every page, and (SEARCH_SCRIPTS) from every page but the search page.
DROPPED_SCRIPT = re.compile(r'[ \t]*<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"'
                            r'[^>]*></script>\n?')
SEARCH_SCRIPTS = re.compile(r'[ \t]*<script src="[^"]*(?:_static/searchtools\.js|'
                            r'_static/language_data\.js|searchindex\.js)"></script>\n?')


def mathjax_dir():
    """The MathJax 3 folder shipped by ``sphinx-mathjax-offline``, or None."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    return path if all((path / name).exists() for name in MATHJAX_FILES) else None


def _configure(app, config):
    os.environ["TQDM_DISABLE"] = "1"  # inherited by the kernels myst-nb starts
    if mathjax_dir() is None:
        logger.warning("sphinx-mathjax-offline is not installed: MathJax loads from a CDN, "
                       "so formulas need internet access (pip install sphinx-mathjax-offline).")
    else:
        config.mathjax_path = "mathjax/startup.js"
        mathjax = dict(config.mathjax3_config or {})
        mathjax["loader"] = {**mathjax.get("loader", {}), "load": MATHJAX_LOAD}
        config.mathjax3_config = mathjax
    # No widget manager: saved widgets are drawn, disabled, by _static/book.js.
    config.nb_ipywidgets_js = {}


def slim_page(text: str, is_search_page: bool) -> str:
    """A built page's HTML without the scripts it does not use (see the module docstring)."""
    text = DROPPED_SCRIPT.sub("", text)
    return text if is_search_page else SEARCH_SCRIPTS.sub("", text)


def lossless_png(data: bytes) -> bytes:
    """``data`` (a PNG) re-encoded smaller with identical pixels, or ``data`` unchanged."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    if image.mode not in ("RGBA", "RGB"):
        return data
    rgba = image.convert("RGBA")
    candidate = image
    if rgba.getextrema()[3] == (255, 255):  # every pixel opaque: the alpha channel says nothing
        candidate = rgba.convert("RGB")
    colours = candidate.getcolors(256)
    if colours is not None:  # at most 256 colours: an exact palette
        palette = Image.new("P", (1, 1))
        flat = [c for _, colour in colours for c in colour[:3]]
        palette.putpalette(flat + [0] * (768 - len(flat)))
        if candidate.mode == "RGB":
            candidate = candidate.quantize(palette=palette, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    candidate.save(buffer, format="PNG", optimize=True)
    smaller = buffer.getvalue()
    if len(smaller) >= len(data):
        return data
    if Image.open(io.BytesIO(smaller)).convert("RGBA").tobytes() != rgba.tobytes():
        return data  # never change a pixel
    return smaller


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    static = out / "_static"
    source = mathjax_dir()
    if source is not None:
        shutil.rmtree(static / "mathjax", ignore_errors=True)
        for name in MATHJAX_FILES:
            target = static / "mathjax" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if (source / name).is_dir():
                shutil.copytree(source / name, target)
            else:
                shutil.copy2(source / name, target)
    for junk in [*static.rglob("*.map"), static / "scripts" / "fontawesome.js",
                 static / "scripts" / "fontawesome.js.LICENSE.txt"]:
        junk.unlink(missing_ok=True)
    for page in out.rglob("*.html"):
        if page.relative_to(out).parts[0] in ("_static", "_sources", "_images"):
            continue
        text = page.read_text(encoding="utf-8")
        slim = slim_page(text, page.relative_to(out).as_posix() == "search.html")
        if slim != text:
            page.write_text(slim, encoding="utf-8")
    for png in (out / "_images").glob("*.png"):
        data = png.read_bytes()
        smaller = lossless_png(data)
        if smaller is not data:
            png.write_bytes(smaller)


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
