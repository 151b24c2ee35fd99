"""Serve MathJax from the built book itself, so formulas render with no internet access.

Sphinx loads MathJax from a CDN by default. When the ``jupyter-server-mathjax`` package is
installed (it is in requirements.txt) this extension copies its MathJax 2.7 files into
``_build/html/_static/mathjax`` and points the pages at them; without the package the CDN
default is kept.
"""
import shutil
from pathlib import Path

MATHJAX_PATH = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


def _mathjax_source():
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    return src if (src / "MathJax.js").is_file() else None


# MyST marks whole sections "tex2jax_ignore mathjax_ignore" and its formulas class "math";
# MathJax 2 must be told to process those inside ignored sections.
MATHJAX2_CONFIG = {"tex2jax": {"processClass": "tex2jax_process|mathjax_process|math|output_area"}}


def _use_local(app, config):
    if _mathjax_source() is not None:
        config.mathjax_path = MATHJAX_PATH
        config.mathjax2_config = MATHJAX2_CONFIG


def _copy(app, exception):
    src = _mathjax_source()
    if exception is not None or src is None or app.builder.format != "html":
        return
    dst = Path(app.outdir) / "_static" / "mathjax"
    if not (dst / "MathJax.js").is_file():
        shutil.copytree(src, dst, dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _use_local)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
