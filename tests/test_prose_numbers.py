"""Numbers in a chapter's prose come from the run, so prose cannot disagree with its output.

A decimal number (``0.61``, ``-3.8``, ``12.5%``) in a chapter's Markdown must be one of:
a ``{glue:...}`` role (the number this build computed), math (``$...$``, ``$$...$$``,
``\\begin{..}...\\end{..}``: a definition or hyper-parameter), inline code or a code fence,
a link target, or part of a sentence that cites its source with a year
(``(Burda et al., 2016)``, ``van den Oord et al. 2017``: a paper's figure). Anything else is
a number typed in by hand, which goes stale the first time the code or the data changes.

Every ``{glue:...}`` role must also name a key that a code cell of the same notebook glues
(``glue("key", ...)`` with the key written as a string literal), or the book shows a gap. And
no code cell ends with a bare ``glue(...)`` call: ``glue`` returns its value, which the page
would then show as the cell's result.
"""
import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))

DECIMAL = re.compile(r"[-+\u2212]?\d+\.\d+%?")
# A citation: a capitalised surname (optionally "et al." or "& / and Name"), then a year. A
# capitalised everyday word before a year ("In 2019", "Table 2016") is not a citation.
_NOT_NAMES = ("In|On|At|By|Of|Since|From|Until|Before|After|During|The|This|That|Table|Figure|Fig|"
              "Chapter|Section|Step|Epoch|Version|Python|Summer|Spring|Autumn|Winter")
CITATION = re.compile(
    rf"\b(?!(?:{_NOT_NAMES})\b)[A-Z][A-Za-z'\u2019\-]+"
    r"(?:\s+et\s+al\.?|\s+(?:&|and)\s+[A-Z][A-Za-z'\u2019\-]+)?"
    r",?\s*\(?(?:19|20)\d\d[a-z]?\b")

GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]*)`")
GLUE_DIRECTIVE = re.compile(r"^\s*(?:```+|:::+)\s*\{glue(?::[a-z]+)?\}\s*(\S+)", re.MULTILINE)
GLUE_CALL = re.compile(r"""\bglue\(\s*(?:name\s*=\s*)?["']([A-Za-z_]\w*)["']""")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>[^\n]*)$", re.MULTILINE)
# Directives whose body is prose the reader sees (admonitions and the like) stay in the scan;
# code, math and glue directives are dropped whole.
_DROPPED_DIRECTIVES = ("code", "code-block", "code-cell", "sourcecode", "math", "glue")


def _drop_fences(text: str) -> str:
    """``text`` without code fences; prose directives keep their body (options removed)."""
    out, pos = [], 0
    while True:
        start = _FENCE.search(text, pos)
        if start is None:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start.start()])
        fence = start.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        end = closing.search(text, start.end())
        body_end = end.start() if end else len(text)
        after = end.end() if end else len(text)
        info = start.group("info").strip()
        directive = re.match(r"\{([\w:-]+)\}", info)
        if directive and not directive.group(1).split(":")[0] in _DROPPED_DIRECTIVES:
            body = text[start.end():body_end]
            body = re.sub(r"^[ \t]*:[\w-]+:.*$", "", body, flags=re.MULTILINE)  # :class: tip
            out.append("\n" + _drop_fences(body) + "\n")
        else:
            out.append("\n\n")
        pos = after


def visible_prose(markdown: str) -> str:
    """The prose of a Markdown cell with everything that may hold a number legitimately cut.

    Cut: code fences, math (display, environments, inline, ``{math}`` roles), ``{glue}``
    roles, inline code, link targets and URLs, HTML comments. Other roles keep their text.
    """
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.DOTALL)
    text = _drop_fences(text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"\\begin\{([^}]*)\}.*?\\end\{\1\}", " ", text, flags=re.DOTALL)
    # Inline math may run over a line break (not over a blank line).
    text = re.sub(r"(?<![\\$])\$(?!\s)(?:[^$\n]|\n(?![ \t]*\n))+?(?<![\s\\])\$", " ", text)
    text = GLUE_ROLE.sub(" GLUED ", text)
    text = re.sub(r"\{(?:math|eq)\}`[^`]*`", " ", text)
    # Other roles ({term}, {doc}, {ref}, ...): keep the text a reader sees, drop the target.
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)\s*(?:<[^`>]*>)?`", r"\1", text)
    text = re.sub(r"(`+).*?\1", " ", text, flags=re.DOTALL)
    text = re.sub(r"(!?\[[^\]]*\])\([^)]*\)", r"\1", text)  # [text](target) -> [text]
    text = re.sub(r"^\s*\[[^\]]+\]:\s*\S+.*$", " ", text, flags=re.MULTILINE)  # [ref]: url
    text = re.sub(r"<(?:https?|mailto|ftp):[^>\s]*>", " ", text)
    text = re.sub(r"\b(?:https?|ftp)://\S+", " ", text)
    text = re.sub(r"\bwww\.\S+", " ", text)
    return text


_SENTENCE_END = re.compile(
    r"(?<!\bal\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bcf\.)(?<!\bvs\.)(?<!\bEq\.)(?<!\beq\.)"
    r"(?<=[.!?:;])\s+")


def sentences(text: str):
    """Sentences, list items and table rows of ``text`` (roughly, as a reader would split them)."""
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.|\|)\s)", text):
        block = " ".join(block.split())
        for sentence in _SENTENCE_END.split(block):
            if sentence.strip():
                yield sentence.strip()


def unglued_numbers(markdown: str) -> list[str]:
    """Sentences of ``markdown`` with a decimal number that is not glued, math, code, a link
    target, or cited with its year. Empty when the cell is fine."""
    found = []
    for sentence in sentences(visible_prose(markdown)):
        if DECIMAL.search(sentence) and not CITATION.search(sentence):
            found.append(sentence)
    return found


def glue_roles(markdown: str) -> set[str]:
    """Keys named by ``{glue:...}`` roles and directives of a Markdown cell."""
    keys = {content.split(":", 1)[0].strip() for content in GLUE_ROLE.findall(markdown)}
    return keys | set(GLUE_DIRECTIVE.findall(markdown))


def ends_with_glue(code: str) -> bool:
    """Whether the last statement of a code cell is a bare ``glue(...)`` call (its value would
    be displayed as the cell's result). IPython magics and shell lines are ignored."""
    lines = [re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in code.splitlines()]
    body = ast.parse("\n".join(lines)).body
    last = body[-1] if body else None
    return (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and getattr(last.value.func, "id", None) == "glue")


def glued_keys(code: str) -> set[str]:
    """Keys that ``glue("key", ...)`` calls in a code cell's source record."""
    return set(GLUE_CALL.findall(code))


# --- the scanner itself -------------------------------------------------------------------

@pytest.mark.parametrize("markdown", [
    "The test loss is 0.61 nats per image.",
    "It drops by -3.8 nats.",
    "About 12.5% of the codes are used.",
    "Accuracy is **0.97** here.",
    "A list:\n\n- first item is fine\n- second says 2.5 bits",
    "| model | nats |\n|---|---|\n| MLP | 98.3 |",
    "```{note}\nIn this build the KL is 4.2 nats.\n```",
    "See [the chapter](05_mlp_vae.ipynb): its loss is 101.2 nats.",
    "A {term}`KL divergence <KL divergence>` of 3.1 nats.",
    "Kingma and Welling wrote the paper. We get 0.61 nats.",  # a name without a year cites nothing
    "In 2019 the loss was 0.61 nats.",                          # a year alone cites nothing
])
def test_scanner_flags_a_hand_typed_number(markdown):
    assert unglued_numbers(markdown), f"not flagged: {markdown!r}"


@pytest.mark.parametrize("markdown", [
    "The test loss is {glue:text}`ch05_test_nll:.2f` nats per image.",
    "With $\\beta = 0.5$ the rate halves.",
    "$$\\log p(x) \\ge -98.5$$",
    "So for $d = 20$ the norm is near $\\sqrt{20}\n\\approx 4.5$ here.",
    "Here:\n$$\na = 0.5\n$$\nand more.",
    "\\begin{align}x &= 0.25\\end{align}",
    "Set `lr=1e-3` or `beta=0.5` in the call.",
    "```python\nx = 0.61\n```",
    "```{code-cell} python\nx = 0.61\n```",
    "Data from [here](https://example.org/v1.2/data.csv).",
    "<https://example.org/v2.0>",
    "The IWAE bound reaches 84.78 nats (Burda et al., 2016).",
    "van den Oord et al. 2017 report 4.67 bits/dim.",
    "Burda et al. (2016) report 85.33 nats on MNIST.",
    "Nalisnick et al. (2019) saw an AUROC of 0.1 for this pair.",
    "No numbers here at all, only 3 digits and 20 dimensions.",
    "{math}`\\sigma = 0.1` is the noise.",
])
def test_scanner_accepts_glued_math_code_links_and_citations(markdown):
    assert unglued_numbers(markdown) == []


def test_scanner_reports_the_offending_sentence_only():
    found = unglued_numbers("First line is fine. Then 0.61 nats appear. The end.")
    assert found == ["Then 0.61 nats appear."]


def test_scanner_cuts_glue_roles_but_keeps_the_sentence_around_them():
    markdown = "Glued {glue:text}`ch05_a:.1f` nats, typed 2.5 nats."
    assert unglued_numbers(markdown) == ["Glued GLUED nats, typed 2.5 nats."]


def test_glue_keys_found_in_roles_and_calls():
    markdown = "A {glue:text}`ch05_a:.1f` and {glue}`ch05_b` and {glue:text}`ch05_c`."
    assert glue_roles(markdown) == {"ch05_a", "ch05_b", "ch05_c"}
    code = 'glue("ch05_a", x)\nglue( "ch05_b", y, headline="z (nats)")\nprint("glue(")'
    assert glued_keys(code) == {"ch05_a", "ch05_b"}


def test_a_bare_glue_call_at_the_end_of_a_cell_is_found():
    assert ends_with_glue('x = 1\nglue("ch05_x", x)')
    assert ends_with_glue('if cond:\n    %pip install x\nglue("ch05_x", 1, headline="y (nats)")')
    assert not ends_with_glue('glue("ch05_x", 1)\nprint(x)')
    assert not ends_with_glue('x = glue("ch05_x", 1)')


# --- the chapters ----------------------------------------------------------------------------

def _cells(path):
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_prose_numbers_are_glued_math_or_cited(path):
    problems = []
    for index, cell in enumerate(_cells(path)):
        if cell.cell_type == "markdown":
            problems += [f"  {path.name} cell {index}: {s}" for s in unglued_numbers(cell.source)]
    assert not problems, (
        "decimal numbers typed into prose (glue them from the run with {glue:text}, write a "
        "definition in $math$, or cite the paper with its year):\n" + "\n".join(problems))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_glue_roles_name_keys_the_notebook_glues(path):
    cells = _cells(path)
    glued = set().union(*(glued_keys(c.source) for c in cells if c.cell_type == "code"))
    missing = [f"  {path.name} cell {index}: {{glue}} `{key}` is never glued"
               for index, cell in enumerate(cells) if cell.cell_type == "markdown"
               for key in sorted(glue_roles(cell.source) - glued)]
    assert not missing, (
        "glue roles without a glue(\"key\", ...) call in a code cell of the same notebook:\n"
        + "\n".join(missing))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_code_cell_ends_with_a_bare_glue_call(path):
    shown = [f"  {path.name} cell {index}" for index, cell in enumerate(_cells(path))
             if cell.cell_type == "code" and ends_with_glue(cell.source)]
    assert not shown, ("these cells end with glue(...), whose return value the page would show "
                       "as the cell's result; move the glue calls above the last statement:\n"
                       + "\n".join(shown))
