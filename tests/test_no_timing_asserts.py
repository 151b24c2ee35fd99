"""No notebook asserts anything about wall-clock time.

Seconds depend on the machine and on whatever else it is doing: an ``assert`` that compares
timings (``conv VAE slower than MLP VAE``, ``analytic gradients 3x faster``) makes the book
fail on a busy machine. Speed claims are made from deterministic counts (multiply-adds,
parameters, passes over the data); measured seconds are only printed.

``find_timing_asserts`` reads every code cell of a notebook with :mod:`ast`, follows which
names hold a timing (taint analysis across cells, in order), and reports every ``assert``
(or ``assert_*(...)`` call) whose expression or message involves one.

What counts as a timing:

- a call of a clock: ``time.perf_counter()``, ``time.time()``, ``time.monotonic()``,
  ``time.process_time()`` (and their ``_ns`` forms, also imported bare), ``timeit.*``,
  ``datetime.now()``;
- an attribute or a name that says it is one: ``history.seconds``, ``elapsed``,
  ``seconds_fd``, ``t_epoch``... (see ``TIMING_WORD``);
- a subscript with a timing key: ``table["s/epoch"]``, ``row["seconds"]``, ``["ms/step"]``;
- any name assigned from an expression that contains one of these (``dt = t1 - t0``,
  ``ratio = seconds_fd / seconds_an``), a loop variable over one, and a call of a notebook
  function that returns one.

A dict literal is not tainted by one timing value inside it (``{"s/epoch": ..., "parameters":
...}``): reading the timing back needs its key, which is caught, so asserts on the other
columns of the same table stay allowed. Assert messages that speak of speed ("faster",
"slower", "speed-up", "s/epoch") are reported too.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted([*(ROOT / "chapters").glob("*.ipynb"), *(ROOT / "solutions").glob("*.ipynb")])

CLOCKS = {"perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns",
          "process_time", "process_time_ns", "thread_time", "thread_time_ns", "default_timer",
          "timeit", "repeat", "now", "utcnow"}
BARE_CLOCKS = CLOCKS - {"time", "repeat", "now"}          # too common as bare names
CLOCK_MODULES = {"time", "timeit", "datetime"}
# Words that make a name, attribute or key a timing: seconds, secs, elapsed, runtime,
# duration, wallclock, timing(s), s_per_epoch, ms_per_step, t_epoch...
TIMING_WORD = re.compile(
    r"(^|[_\W])(seconds|secs?|elapsed|runtimes?|durations?|wall_?(clock|time)?|timings?|"
    r"(m|u|n)?s_?per_?(epoch|step|batch|image)|t_?(epoch|step))($|[_\W])", re.IGNORECASE)
TIMING_KEY = re.compile(r"^\s*(m|u|n)?s\s*/\s*\w+\s*$|seconds|elapsed|wall", re.IGNORECASE)
SPEED_WORDS = re.compile(r"faster|slower|speed-?ups?|quicker|s/epoch|ms/step|seconds",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    notebook: str
    cell: int       # index in nb.cells (markdown cells counted)
    line: int       # 1-based, within the cell
    source: str     # the offending line

    def __str__(self):
        return f"{self.notebook}, cell {self.cell}, line {self.line}: {self.source.strip()}"


def _python_source(cell_source: str) -> str:
    """The cell with IPython magics and shell escapes replaced by ``pass`` (same line numbers)."""
    if cell_source.lstrip().startswith("%%"):
        return ""                                  # a cell magic: not Python
    lines = []
    for line in cell_source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        lines.append(line)
    return "\n".join(lines)


class _TimingScanner:
    """Walks code cells in order, tracking names (and functions) that hold timings."""

    def __init__(self):
        self.tainted: set[str] = set()
        self.timing_functions: set[str] = set()
        self.findings: list[tuple[int, ast.AST]] = []   # (lineno, node)

    # -- is an expression a timing? -------------------------------------------------------
    def is_timing(self, node: ast.AST | None, names: set[str]) -> bool:
        if node is None:
            return False
        if isinstance(node, ast.Dict):                 # see the module docstring
            return False
        if isinstance(node, ast.Name):
            return node.id in names or bool(TIMING_WORD.search(node.id))
        if isinstance(node, ast.Attribute):
            return bool(TIMING_WORD.search(node.attr)) or self.is_timing(node.value, names)
        if isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) \
                    and TIMING_KEY.search(key.value):
                return True
            return self.is_timing(node.value, names)
        if isinstance(node, ast.Call):
            if self._is_clock_call(node):
                return True
            if isinstance(node.func, ast.Name) and node.func.id in self.timing_functions:
                return True
            parts = [node.func, *node.args, *(k.value for k in node.keywords)]
            return any(self.is_timing(p, names) for p in parts)
        if isinstance(node, ast.Lambda):
            return self.is_timing(node.body, names)
        return any(self.is_timing(child, names) for child in ast.iter_child_nodes(node)
                   if isinstance(child, ast.expr))

    @staticmethod
    def _is_clock_call(node: ast.Call) -> bool:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in CLOCKS:
            base = func.value
            while isinstance(base, ast.Attribute):     # datetime.datetime.now
                base = base.value
            return isinstance(base, ast.Name) and base.id in CLOCK_MODULES
        return isinstance(func, ast.Name) and func.id in BARE_CLOCKS

    # -- statements ------------------------------------------------------------------------
    def scan(self, tree: ast.Module):
        self._block(tree.body, self.tainted)

    def _targets(self, target: ast.AST) -> list[str]:
        return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]

    def _block(self, body, names: set[str]):
        for stmt in body:
            self._stmt(stmt, names)

    def _stmt(self, stmt: ast.stmt, names: set[str]):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local = set(names)
            self._block(stmt.body, local)
            if any(isinstance(n, ast.Return) and self.is_timing(n.value, local)
                   for n in ast.walk(stmt)):
                self.timing_functions.add(stmt.name)
            return
        if isinstance(stmt, ast.Assert):
            if self.is_timing(stmt.test, names) or self.is_timing(stmt.msg, names) \
                    or self._speaks_of_speed(stmt):
                self.findings.append((stmt.lineno, stmt))
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname.startswith("assert") and (self.is_timing(stmt.value, names)
                                               or self._speaks_of_speed(stmt.value)):
                self.findings.append((stmt.lineno, stmt))
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            value = stmt.value
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            timing = self.is_timing(value, names) or (
                isinstance(stmt, ast.AugAssign) and self.is_timing(stmt.target, names))
            for target in targets:
                for name in self._targets(target):
                    if timing:
                        names.add(name)
                    elif isinstance(target, ast.Name):
                        names.discard(name)            # re-bound to something else
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            if self.is_timing(stmt.iter, names):
                names.update(self._targets(stmt.target))
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None and self.is_timing(item.context_expr, names):
                    names.update(self._targets(item.optional_vars))
        for field in ("body", "orelse", "finalbody"):
            self._block(getattr(stmt, field, []) or [], names)
        for handler in getattr(stmt, "handlers", []) or []:
            self._block(handler.body, names)

    @staticmethod
    def _speaks_of_speed(node: ast.AST) -> bool:
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str)
                   and SPEED_WORDS.search(n.value) for n in ast.walk(node))


def find_timing_asserts(cells, notebook: str = "<notebook>") -> list[Finding]:
    """Asserts about wall-clock time in a notebook's cells.

    Args:
        cells: the notebook's cells, in order: ``nbformat`` cells, or ``(cell_type, source)``
            pairs, or plain source strings (code cells).
        notebook: the name used in the findings.
    Returns:
        one :class:`Finding` (notebook, cell index, line in the cell, the line) per assert.
    Raises:
        SyntaxError: a code cell that is not Python (after magics are removed), naming it.
    """
    scanner = _TimingScanner()
    findings = []
    for index, cell in enumerate(cells):
        if isinstance(cell, str):
            kind, source = "code", cell
        elif isinstance(cell, tuple):
            kind, source = cell
        else:
            kind, source = cell.cell_type, cell.source
        if kind != "code":
            continue
        code = _python_source(source)
        try:
            tree = ast.parse(code)
        except SyntaxError as err:
            raise SyntaxError(f"{notebook}, cell {index}: cannot parse ({err.msg}, "
                              f"line {err.lineno})") from err
        scanner.findings = []
        scanner.scan(tree)
        lines = source.splitlines()
        for lineno, _ in scanner.findings:
            findings.append(Finding(notebook, index, lineno, lines[lineno - 1]))
    return findings


# -- the notebooks --------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_notebook_asserts_nothing_about_wall_clock_time(path):
    found = find_timing_asserts(nbformat.read(path, as_version=4).cells,
                                str(path.relative_to(ROOT)))
    assert not found, ("asserts on wall-clock time (they fail on a busy machine; assert a "
                       "deterministic count such as multiply-adds instead and only print the "
                       "seconds):\n" + "\n".join(map(str, found)))


def test_the_scan_covers_chapters_and_solutions():
    folders = {p.parent.name for p in NOTEBOOKS}
    assert folders == {"chapters", "solutions"}, folders


# -- the scanner itself: it must fail on planted timing asserts -----------------------------

PLANTED = {
    "perf_counter difference": [
        "import time\nt0 = time.perf_counter()\nrun()\ndt = time.perf_counter() - t0",
        "assert dt < 2.0",
    ],
    "ratio of two timings, across cells": [
        "t0 = time.time()\nf()\nfirst = time.time() - t0",
        "t0 = time.time()\ng()\nsecond = time.time() - t0\nspeedup = first / second",
        "print(speedup)\nassert speedup > 3, 'g should be faster'",
    ],
    "history.seconds": [
        "s = float(np.mean(history.seconds))",
        "assert s > 0.1",
    ],
    "a table's s/epoch column (the chapter 06 bug)": [
        "rows = {'conv': {'s/epoch': float(np.mean(h.seconds)), 'parameters': 3}}\n"
        "table = pd.DataFrame.from_dict(rows, orient='index')",
        "s = table.xs(dataset, level='data')['s/epoch']\n"
        "assert s['conv VAE'] > s['MLP VAE'], 'the conv VAE should be slower per epoch'",
    ],
    "bare perf_counter import, inside a loop": [
        "from time import perf_counter\nfor k in ks:\n    start = perf_counter()\n"
        "    work(k)\n    took = perf_counter() - start\n    assert took < 1.0",
    ],
    "a timing returned by a function": [
        "def timed(f):\n    t0 = time.perf_counter()\n    f()\n    return time.perf_counter() - t0",
        "a, b = timed(f), timed(g)\nassert a > b",
    ],
    "a name that says it is a timing": [
        "assert seconds_fd / seconds_an > 2",
    ],
    "numpy's assert functions": [
        "elapsed = time.monotonic() - t0\nnp.testing.assert_array_less(elapsed, 5.0)",
    ],
    "a speed claim in the message only": [
        "assert ratio > 2, 'the analytic gradient should be several times faster'",
    ],
    "an IPython magic in the cell does not hide it": [
        "%matplotlib inline\nt0 = time.perf_counter()\nx = 1\nwall = time.perf_counter() - t0",
        "assert wall < 3",
    ],
}

BENIGN = {
    "loss and counts": [
        "loss = train(model)\nassert loss < 100, 'training should lower the loss'",
        "macs = multiply_adds(model, x)\nassert macs == 123_456",
    ],
    "other columns of a table that also holds s/epoch": [
        "rows = {'conv': {'s/epoch': float(np.mean(h.seconds)), 'parameters': 3}}\n"
        "table = pd.DataFrame.from_dict(rows, orient='index')",
        "assert (table['parameters'] == 3).all()\nprint(table['s/epoch'])",
    ],
    "a timing only printed": [
        "t0 = time.perf_counter()\nrun()\ndt = time.perf_counter() - t0\nprint(f'{dt:.2f} s')",
        "assert result == 4",
    ],
    "a name re-bound to something else": [
        "t = time.perf_counter()",
        "t = torch.linspace(0, 1, 11)\nassert t.shape == (11,)",
    ],
}


@pytest.mark.parametrize("case", PLANTED)
def test_scanner_finds_a_planted_timing_assert(case):
    cells = PLANTED[case]
    found = find_timing_asserts(cells, notebook="planted.ipynb")
    assert found, f"{case}: the planted timing assert was not found"
    last = found[-1]
    assert last.notebook == "planted.ipynb" and last.cell < len(cells)
    assert "assert" in last.source, last      # the reported line is the assert itself


@pytest.mark.parametrize("case", BENIGN)
def test_scanner_passes_benign_asserts(case):
    assert find_timing_asserts(BENIGN[case]) == []


def test_finding_names_notebook_cell_and_line():
    cells = [("markdown", "# title"), "x = 1", "dt = time.perf_counter() - t0\n\nassert dt < 1"]
    (finding,) = find_timing_asserts(cells, notebook="chapters/99.ipynb")
    assert (finding.notebook, finding.cell, finding.line) == ("chapters/99.ipynb", 2, 3)
    assert str(finding) == "chapters/99.ipynb, cell 2, line 3: assert dt < 1"


def test_scanner_reads_the_chapter_06_bug_as_it_was_committed():
    # The cell that broke `make book` (commit before issue 8), verbatim in its essentials.
    cells = [
        "rows[(dataset.name, name)] = {\n    \"parameters\": 1,\n"
        "    \"s/epoch\": float(np.mean(history.seconds)),\n}",
        "table = pd.DataFrame.from_dict({**mnist_rows, **fashion_rows}, orient='index')",
        "for dataset in names:\n    if device.type == 'cpu':\n"
        "        s = table.xs(dataset, level='data')['s/epoch']\n"
        "        assert s['conv VAE'] > s['MLP VAE'], f'{dataset}: slower'",
    ]
    (finding,) = find_timing_asserts(cells, notebook="chapters/06_conv_vae.ipynb")
    assert finding.cell == 2 and finding.line == 4


def test_unparsable_cell_is_named():
    with pytest.raises(SyntaxError, match=r"nb.ipynb, cell 1"):
        find_timing_asserts(["x = 1", "def broken(:"], notebook="nb.ipynb")
