"""The book's build status page, written by the build that made the book.

The page ``status.md`` holds one directive, ``{build-status}``. When the build writes the
pages (after every notebook was executed), the directive becomes a table with one row per
chapter: the profile and device its setup cell printed, the wall time of this build's run of
the notebook (measured by ``tools/execute_book.py`` under ``make book``, by myst-nb
otherwise), the headline numbers the chapter glued
(``course_utils.glue(name, value, headline="label (unit)")``) and how many ``assert``
statements its code cells hold (the build stops on a failing cell, so each of them ran and
held). A second table lists the exercises with the check lines their solutions recorded.

Nothing on the page is typed by hand. A chapter without an executed notebook, without the
setup line, or without a headline number is a build warning, so the strict build
(``-W``) fails when the page would be incomplete.
"""
from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)
SETUP_LINE = re.compile(r"device: (?P<device>.+?) \| profile: (?P<profile>\w+)")
GLUE_TEXT = "application/papermill.record/text/plain"
CHECK_CALL = re.compile(r"checks\.(check_\w+)\(")


class build_status(nodes.General, nodes.Element):
    """Placeholder, replaced by the tables once every notebook has been executed."""


class BuildStatusDirective(SphinxDirective):
    has_content = False

    def run(self):
        return [build_status()]


def _code(cell) -> str:
    source = "".join(cell.get("source", ""))
    # IPython lines (%pip, !ls) are not Python: blank them before parsing.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


def count_asserts(notebook: dict) -> int:
    """``assert`` statements in the notebook's code cells."""
    total = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(_code(cell))
        except SyntaxError:
            continue
        total += sum(isinstance(node, ast.Assert) for node in ast.walk(tree))
    return total


def setup_line(notebook: dict) -> dict | None:
    """``{"device": ..., "profile": ...}`` from the line ``course_utils.print_setup`` printed."""
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            match = SETUP_LINE.search("".join(out.get("text", "")))
            if match:
                return match.groupdict()
    return None


def headlines(notebook: dict) -> list[tuple[str, str]]:
    """``(label, value)`` of every glued number marked as a headline, in notebook order."""
    found = []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            label = out.get("metadata", {}).get("course_utils", {}).get("headline")
            if label and GLUE_TEXT in out.get("data", {}):
                found.append((label, _number(out["data"][GLUE_TEXT])))
    return found


def glued_headlines(glue: dict) -> list[tuple[str, str]]:
    """The same from myst-nb's ``<doc>.glue.json`` (it moves glue outputs out of the notebook)."""
    found = []
    for output in glue.values():
        label = output.get("metadata", {}).get("course_utils", {}).get("headline")
        data = output.get("data", {})
        value = data.get("text/plain", data.get(GLUE_TEXT))
        if label and value is not None:
            found.append((label, _number(value)))
    return found


def _number(text: str) -> str:
    text = "".join(text).strip().strip("'\"")
    try:
        value = float(text)
    except ValueError:
        return text
    if value == int(value) and abs(value) < 1e9 and "." not in text:
        return f"{int(value):,}"
    return f"{value:.5g}"


def recorded_checks(solution: Path) -> list[str]:
    """The lines a solution's check cells recorded (``tools/make_exercises.py --record``)."""
    notebook = json.loads(solution.read_text())
    lines = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and CHECK_CALL.search("".join(cell["source"])):
            text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
            lines += [line for line in text.splitlines() if line.strip()]
    return lines


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (f'<div class="build-status pst-scrollable-table-container"><table class="table">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def executed_notebook(app, docname: str, path: Path) -> dict:
    """The notebook ``docname`` as this build ran it.

    myst-nb writes ``jupyter_execute/<doc>.ipynb``; with execution mode ``cache`` (``make
    book``: tools/execute_book.py ran the notebooks) it writes that copy without the outputs
    it took from the cache (myst-nb 1.4 writes the notebook it read, not the merged one), so
    the outputs are then read from the cache, matched to the page's source as myst-nb does.
    """
    notebook = json.loads(path.read_text())
    if app.config.nb_execution_mode != "cache":
        return notebook
    import nbformat
    from jupyter_cache import get_cache

    source = Path(app.srcdir) / f"{docname}.ipynb"
    cache = get_cache(app.config.nb_execution_cache_path or ".jupyter_cache")
    _, merged = cache.merge_match_into_notebook(nbformat.read(source, as_version=4))
    return json.loads(nbformat.writes(merged))


def chapter_rows(app) -> list[list[str]]:
    from myst_nb.sphinx_ import NbMetadataCollector

    env = app.env
    executed = Path(app.outdir).parent / "jupyter_execute"
    rows = []
    for docname in sorted(d for d in env.found_docs if d.startswith("chapters/")):
        title = env.titles[docname].astext() if docname in env.titles else docname
        path = executed / f"{docname}.ipynb"
        exec_data = NbMetadataCollector.get_exec_data(env, docname) or {}
        if not path.exists() or not exec_data.get("succeeded"):
            logger.warning(f"build status: {docname} was not executed by this build "
                           f"(no {path.name} in {executed}), so the status page lacks it")
            rows.append([html.escape(title), "—", "—", "not executed", "—", "—"])
            continue
        notebook = executed_notebook(app, docname, path)
        setup = setup_line(notebook)
        glue_file = executed / f"{docname}.glue.json"
        numbers = list(dict.fromkeys(headlines(notebook) + (   # each once, in notebook order
            glued_headlines(json.loads(glue_file.read_text())) if glue_file.exists() else [])))
        if setup is None:
            logger.warning(f"build status: {docname} printed no setup line "
                           "(course_utils.print_setup): device and profile unknown")
        if not numbers:
            logger.warning(f"build status: {docname} glues no headline number "
                           "(course_utils.glue(name, value, headline='label (unit)'))")
        link = f'<a href="{app.builder.get_relative_uri("status", docname)}">{html.escape(title)}</a>'
        rows.append([
            link,
            html.escape(setup["profile"]) if setup else "?",
            html.escape(setup["device"]) if setup else "?",
            f"{exec_data['runtime']:.1f} s",
            "<br>".join(f"{html.escape(label)}: <b>{html.escape(value)}</b>" for label, value in numbers),
            str(count_asserts(notebook)),
        ])
    return rows


def exercise_rows(app) -> list[list[str]]:
    root = Path(app.srcdir)
    rows = []
    for docname in sorted(d for d in app.env.found_docs
                          if d.startswith("exercises/") and d != "exercises/index"):
        solution = root / "solutions" / f"{Path(docname).name}.ipynb"
        title = app.env.titles[docname].astext() if docname in app.env.titles else docname
        if not solution.exists():
            logger.warning(f"build status: {docname} has no solution {solution}")
            continue
        lines = recorded_checks(solution)
        if not lines:
            logger.warning(f"build status: {solution.name} has no recorded check line "
                           "(run tools/make_exercises.py --record)")
        link = f'<a href="{app.builder.get_relative_uri("status", docname)}">{html.escape(title)}</a>'
        rows.append([link, "<br>".join(html.escape(line) for line in lines),
                     str(count_asserts(json.loads(solution.read_text())))])
    return rows


def fill(app, doctree, docname):
    for node in doctree.findall(build_status):
        if app.builder.format != "html":
            node.replace_self([])
            continue
        chapters = _table(["Chapter", "Profile", "Device", "Wall time", "Headline numbers",
                           "Asserts"], chapter_rows(app))
        exercises = _table(["Exercise", "Checks (solution, recorded in the smoke profile)",
                            "Asserts in the solution"], exercise_rows(app))
        node.replace_self([
            nodes.raw("", chapters, format="html"),
            nodes.paragraph(text=(
                "The exercises are not executed by the book build (their stubs raise "
                "NotImplementedError by design). Their solutions are run by the test suite "
                "(make test), which compares each check cell with the line below; "
                "tools/make_exercises.py --record wrote these lines.")),
            nodes.raw("", exercises, format="html"),
        ])


def setup(app):
    app.add_node(build_status)
    app.add_directive("build-status", BuildStatusDirective)
    app.connect("doctree-resolved", fill)
    # The page depends on every notebook's run: always write it again.
    app.connect("env-get-outdated", lambda app, env, added, changed, removed: ["status"])
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
