"""Serve the book's scripts from the book itself, so pages work with no internet access.

* **MathJax 3** (CommonHTML output with its own TeX fonts) from the ``sphinx-mathjax-offline``
  package on PyPI (MathJax 3.2.2), copied to ``_static/mathjax``. Sphinx would otherwise load
  MathJax from a CDN.
* **Jupyter widget scripts** (``require.js`` and ``@jupyter-widgets/html-manager``'s
  ``embed-amd.js``, both from the npm registry) from ``_ext/vendor/widgets``, which
  ``make book`` fills with ``npm pack``; copied to ``_static/widgets``. Saved widget state
  (chapter 07's explorer) then renders offline. Without that folder myst-nb's CDN default is
  kept and a warning says so.
* **Progress bars** are switched off for the kernels the build starts (``TQDM_DISABLE=1``):
  a bar in a static page repeats, squashed, the summary line that ``train.fit`` prints.
"""
import importlib.util
import os
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
WIDGETS_DIR = Path(__file__).resolve().parent / "vendor" / "widgets"
WIDGET_SCRIPTS = ("require.js", "embed-amd.js")


def mathjax_dir():
    """The MathJax 3 folder shipped by ``sphinx-mathjax-offline``, or None."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    return path if (path / "tex-chtml.js").is_file() else None


def _configure(app, config):
    os.environ["TQDM_DISABLE"] = "1"  # inherited by the kernels myst-nb starts
    if mathjax_dir() is None:
        logger.warning("sphinx-mathjax-offline is not installed: MathJax loads from a CDN, "
                       "so formulas need internet access (pip install sphinx-mathjax-offline).")
    else:
        config.mathjax_path = "mathjax/tex-chtml.js"
    if all((WIDGETS_DIR / name).is_file() for name in WIDGET_SCRIPTS):
        config.nb_ipywidgets_js = {f"widgets/{name}": {} for name in WIDGET_SCRIPTS}
    else:
        # Not a warning: a book without saved widgets is unaffected, and pages that have
        # them are caught by the browser test (tests/browser), which forbids CDN requests.
        logger.info(f"no widget scripts in {WIDGETS_DIR} (make book fetches them with npm): "
                    "saved widgets will load their scripts from a CDN.")


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    if mathjax_dir() is not None:
        shutil.copytree(mathjax_dir(), static / "mathjax", dirs_exist_ok=True)
    if WIDGETS_DIR.is_dir():
        shutil.copytree(WIDGETS_DIR, static / "widgets", dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
