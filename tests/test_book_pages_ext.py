"""_ext/book_pages.py: each inline script once per page; the widget set-up right after require.js."""
import sys
from pathlib import Path

from sphinx.builders.html._assets import _JavaScript

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import book_pages  # noqa: E402

THEBE = "const THEBE_JS_URL = 'x'"


def test_dedupe_scripts_treats_none_and_empty_file_names_as_the_same_inline_script():
    scripts = [_JavaScript(None, body=THEBE, priority=500), _JavaScript("a.js"),
               _JavaScript("", body=THEBE, priority=500), _JavaScript("a.js")]
    kept = book_pages.dedupe_scripts(scripts)
    assert kept == [scripts[0], scripts[1]]


def test_dedupe_scripts_keeps_different_inline_scripts():
    scripts = [_JavaScript("", body="var a = 1"), _JavaScript("", body="var b = 2")]
    assert book_pages.dedupe_scripts(scripts) == scripts


def test_page_context_inserts_the_widget_setup_after_require_js_in_place():
    scripts = [_JavaScript(None, body=THEBE), _JavaScript("", body=THEBE),
               _JavaScript("widgets/require.js"), _JavaScript("widgets/embed-amd.js")]
    same_list = scripts
    book_pages._page_context(None, "p", "page.html", {"script_files": scripts}, None)
    assert scripts is same_list and len(scripts) == 4
    assert [getattr(s, "filename") or "" for s in scripts] == [
        "", "widgets/require.js", "", "widgets/embed-amd.js"]
    assert scripts[2].attributes["body"] == book_pages.WIDGET_SETUP
    assert "require.config" in book_pages.WIDGET_SETUP and "Hub" in book_pages.WIDGET_SETUP


def test_page_context_adds_nothing_to_a_page_without_widgets():
    scripts = [_JavaScript("doctools.js")]
    book_pages._page_context(None, "p", "page.html", {"script_files": scripts}, None)
    assert [s.filename for s in scripts] == ["doctools.js"]
