"""Page-level fixes for the built book (see also ``offline_assets``).

* **Each inline script once.** Sphinx 7.4 writes an inline script that an extension adds
  after ``Builder.init()`` twice (once registered as ``None``, once as ``''``), so
  sphinx-thebe's ``const THEBE_JS_URL = ...`` is declared twice and every page logs
  "Identifier 'THEBE_JS_URL' has already been declared". Duplicates are dropped per page.
* **Widget fonts from the book.** ``embed-amd.js`` loads its icon fonts from the folder of
  its own AMD module name, which require.js resolves against the *page* folder
  (``chapters/@jupyter-widgets/html-manager/dist/…``: 404). A ``require.config`` placed
  right after ``require.js`` maps that module folder to ``_static/widgets``.
* **Widgets with MathJax 3.** The widget manager typesets with MathJax 2's
  ``MathJax.Hub.Queue``; with the MathJax 3 the book serves that throws "Cannot read
  properties of undefined (reading 'Queue')". The same inline script adds a ``Hub.Queue``
  that calls MathJax 3's ``typesetPromise``.
"""
from sphinx.builders.html._assets import _JavaScript

WIDGET_MODULE = "@jupyter-widgets/html-manager/dist"
WIDGET_SETUP = (
    "(function () {"
    " var s = document.querySelector('script[src*=\"widgets/require.js\"]');"
    " if (s && window.require) {"
    "  var dir = s.src.replace(/\\/require\\.js(\\?.*)?$/, '');"
    f"  require.config({{paths: {{'{WIDGET_MODULE}': dir}}}});"
    " }"
    # The widget manager typesets labels with MathJax 2's MathJax.Hub.Queue; the book serves
    # MathJax 3, so that call throws. A small Hub.Queue that calls MathJax 3's typesetPromise.
    " document.addEventListener('DOMContentLoaded', function () {"
    "  var M = window.MathJax;"
    "  if (!M || M.Hub) return;"
    "  M.Hub = {Queue: function (job) {"
    "   var el = job && job[2];"
    "   (M.startup && M.startup.promise || Promise.resolve()).then(function () {"
    "    if (M.typesetPromise) return M.typesetPromise(el ? [el] : undefined);"
    "   }).catch(function (e) { console.warn('MathJax in a widget:', e); });"
    "  }};"
    " });"
    "})();"
)


def _key(script):
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), tuple(sorted(attributes.items()))


def dedupe_scripts(scripts):
    """``scripts`` without repeats, first kept; ``None`` and ``''`` file names count as equal."""
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def _page_context(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts is None:
        return
    kept = dedupe_scripts(scripts)
    for i, script in enumerate(kept):
        if str(getattr(script, "filename", "")).endswith("widgets/require.js"):
            kept.insert(i + 1, _JavaScript("", body=WIDGET_SETUP, priority=500))
            break
    scripts[:] = kept  # the same list object: Sphinx restores it after the page


def setup(app):
    # After myst-nb (priority 500) has added the page's widget scripts.
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
