"""Numbers for the book's prose: ``glue`` records a value a Markdown cell quotes.

A sentence about a run quotes the run's own number through myst-nb's glue: the code cell
calls ``glue("ch05_test_nll", test_nll)`` and the Markdown cell writes
``{glue:text}`ch05_test_nll:.1f``` where the number belongs. The book then shows the number
this build computed, never one typed in by hand.

This writes the same output as ``myst_nb.glue(name, value, display=False)`` without
importing myst-nb, so a notebook also runs where the book tools are not installed (Jupyter
on a laptop, Colab); outside an IPython kernel it does nothing. ``headline`` marks one of a
chapter's headline numbers (a label with its unit, e.g. ``"test ELBO (nats/image)"``), which
the book's build status page lists.
"""
from __future__ import annotations

import numbers

__all__ = ["GLUE_PREFIX", "glue"]

GLUE_PREFIX = "application/papermill.record/"


def _plain(value):
    """A Python number for a 0-d tensor / numpy scalar / one-element array; else ``value``."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return value.item()
    return value


def glue(name: str, value, headline: str | None = None):
    """Record ``value`` under ``name`` for ``{glue:text}`` in the notebook's Markdown.

    name: a key unique in the book (prefix it with the chapter, ``"ch05_..."``).
    value: a number (Python, numpy or 0-d torch) or a short string; tensors and arrays with
        more than one element are refused (glue one number at a time).
    headline: optional label with unit; marks a headline number for the build status page.
    Returns the plain value, so ``x = glue("ch05_x", compute())`` reads naturally.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue: name must be an identifier such as 'ch05_test_nll', got {name!r}")
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, (numbers.Number, str)):
        raise TypeError(
            f"glue: {name!r} must be a number or a string, got {type(value).__name__}; "
            "glue one number at a time (call .item() on a one-element tensor)")
    if headline is not None and not (isinstance(headline, str) and headline.strip()):
        raise ValueError(f"glue: headline must be a non-empty label such as 'test ELBO (nats/image)', got {headline!r}")
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with every Jupyter kernel
        return value
    if get_ipython() is None:
        return value
    metadata = {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}
    if headline is not None:
        metadata["course_utils"] = {"headline": headline}
    display({GLUE_PREFIX + "text/plain": repr(value)}, raw=True, metadata=metadata)
    return value
