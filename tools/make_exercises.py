"""Generate the exercise notebooks from their solutions (the single source of truth).

Usage (from the repository root):
    python tools/make_exercises.py            # write exercises/*.ipynb from solutions/*.ipynb
    python tools/make_exercises.py --check    # exit 1 if exercises/ is stale or a solution is malformed
    python tools/make_exercises.py --record   # run the solutions, store their check lines, regenerate

How a solution notebook is marked up:

* Code the learner writes sits between two marker lines, indented like the code::

      ### BEGIN SOLUTION
      # HINT: one line shown to the learner (optional)
      ...solution code...
      ### END SOLUTION

  In the exercise the block becomes ``# YOUR CODE HERE`` and
  ``raise NotImplementedError("<hint>")`` at the block's indentation.
* Check cells start with ``# NBVAL_CHECK_OUTPUT``: in the solution they keep the one line
  their checker printed (nbval compares it); in the exercise the marker line is removed, so
  only the checker's pass/fail decides.
* Markdown cells tagged ``solution-only`` (model answers) are left out of the exercise.

Exercises carry no outputs. The output is deterministic: regenerating changes nothing.
After editing a solution, run ``--record`` (it executes the solutions in the ``smoke``
profile) and commit the solution and the regenerated exercise together.
"""
from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT = "# HINT:"
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
SOLUTION_ONLY = "solution-only"
DEFAULT_HINT = "write your code here (see the task description above)"


class MarkupError(ValueError):
    """A solution notebook's markers are malformed (unbalanced, nested, misplaced)."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hint_lines(lines) -> list[str]:
    """The texts of the ``# HINT:`` lines among ``lines`` (the stub shows the first)."""
    return [l.strip()[len(HINT):].strip() for l in lines if l.strip().startswith(HINT)]


def stub_source(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace every marked solution block in ``source``; return (new source, blocks replaced)."""
    out, block, indent, n = [], None, "", 0
    for lineno, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if block is not None:
                raise MarkupError(f"{where}, line {lineno}: nested {BEGIN!r}.")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if block is None:
                raise MarkupError(f"{where}, line {lineno}: {END!r} without {BEGIN!r}.")
            hints = hint_lines(block)
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError({_quote(hints[0] if hints else DEFAULT_HINT)})")
            block, n = None, n + 1
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise MarkupError(f"{where}: {BEGIN!r} is never closed by {END!r}.")
    return "\n".join(out), n


def solution_blocks(source: str) -> list:
    """The code of each marked block in ``source``, hint lines dropped: what a learner writes.

    Each block is the lines between its markers, joined with newlines, at their original
    indentation (so that it can replace the exercise's two stub lines as it is).
    """
    blocks, current = [], None
    for line in source.split("\n"):
        if line.strip() == BEGIN:
            current = []
        elif line.strip() == END:
            blocks.append("\n".join(current))
            current = None
        elif current is not None and not line.strip().startswith(HINT):
            current.append(line)
    return blocks


def without_markers(source: str) -> str:
    """A solution cell as a learner who solved it has it: no markers, no hints, no check marker.

    (Together with :func:`stub_source`: the exercise cell with each stub replaced by its
    block of :func:`solution_blocks` is exactly this.)
    """
    out, inside = [], False
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped in (BEGIN, END):
            inside = stripped == BEGIN
        elif stripped == CHECK_MARKER or (inside and stripped.startswith(HINT)):
            continue
        else:
            out.append(line)
    return "\n".join(out)


def is_check_cell(cell) -> bool:
    """A check cell: a code cell whose source contains the ``# NBVAL_CHECK_OUTPUT`` line."""
    return cell.cell_type == "code" and any(
        line.strip() == CHECK_MARKER for line in cell.source.split("\n"))


CHECK_CALL = re.compile(r"checks\.(check_\w+)\((\w+)\)")


def load_solution(path: Path) -> tuple[dict, dict]:
    """The answers a solution notebook defines, and the line each of its check cells recorded.

    Runs the notebook's import cells and every cell with a solution block, markers removed
    (:func:`without_markers`); returns ``(namespace, {checker name: recorded line})``. The
    tests take their reference answers from here, so they cannot drift from the solutions.
    """
    import ast

    path = Path(path).resolve()
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    nb = nbformat.read(path, as_version=4)
    namespace, recorded = {}, {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = without_markers(cell.source)
        call = CHECK_CALL.search(source)
        if is_check_cell(cell) and call:
            recorded[call.group(1)] = "".join(o.text for o in cell.outputs)
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:                                 # IPython syntax (the Colab setup)
            continue
        imports_only = all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)
        if solution_blocks(cell.source) or imports_only:
            exec(compile(source, where, "exec"), namespace)
    return namespace, recorded


def make_exercise(solution, name: str = "notebook"):
    """The exercise notebook for a solution notebook (both ``nbformat`` nodes)."""
    nb = copy.deepcopy(solution)
    cells, blocks = [], 0
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        if SOLUTION_ONLY in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            for marker in (BEGIN, END):
                if marker in cell.source and not any(l.strip() == marker
                                                     for l in cell.source.split("\n")):
                    raise MarkupError(f"{where}: {marker!r} must be a line of its own.")
            source, n = stub_source(cell.source, where)
            blocks += n
            cell.source = "\n".join(line for line in source.split("\n")
                                    if line.strip() != CHECK_MARKER)
            cell.outputs = []
            cell.execution_count = None
        elif BEGIN in cell.source or END in cell.source:
            raise MarkupError(f"{where}: solution markers belong in code cells only.")
        cells.append(cell)
    if blocks == 0:
        raise MarkupError(f"{name}: no {BEGIN!r} block, so the exercise would be the solution.")
    nb.cells = cells
    return nb


def solution_problems(nb, name: str = "notebook") -> list:
    """What makes a solution unfit to be the master (empty list when it is fine).

    Check cells must hold the one ``stdout`` line their checker prints and an execution
    count (nbval compares only cells that were run); every other cell is stored clean.
    """
    problems, checks = [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if is_check_cell(cell):
            checks += 1
            outs = cell.outputs
            if (cell.execution_count is None or len(outs) != 1 or outs[0].output_type != "stream"
                    or outs[0].name != "stdout" or "checks passed" not in outs[0].text):
                problems.append(f"{name}, cell {i}: check cell without its recorded "
                                "'... checks passed' line (run tools/make_exercises.py --record).")
        elif cell.outputs or cell.execution_count is not None:
            problems.append(f"{name}, cell {i}: has outputs; only check cells keep theirs "
                            "(run tools/make_exercises.py --record).")
    if checks == 0:
        problems.append(f"{name}: no check cell (a code cell with {CHECK_MARKER!r}).")
    return problems


def render(nb) -> str:
    """The file text of a notebook, exactly as written to disk."""
    return nbformat.writes(nb) + "\n"


def generate(solutions: Path, exercises: Path, check: bool = False) -> int:
    """Write (or with ``check``, compare) every exercise; return the number of problems."""
    sources = sorted(solutions.glob("*.ipynb"))
    if not sources:
        print(f"no solution notebooks in {solutions}", file=sys.stderr)
        return 1
    problems = 0
    expected = set()
    for path in sources:
        solution = nbformat.read(path, as_version=4)
        for msg in solution_problems(solution, str(path.relative_to(solutions.parent))):
            print(msg, file=sys.stderr)
            problems += 1
        text = render(make_exercise(solution, path.name))
        target = exercises / path.name
        expected.add(target.name)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            print(f"{target} is {'missing' if current is None else 'out of date'}: "
                  "run python tools/make_exercises.py", file=sys.stderr)
            problems += 1
        else:
            exercises.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    for extra in sorted(exercises.glob("*.ipynb")):
        if extra.name not in expected:
            print(f"{extra} has no solution in {solutions}: remove it or add the solution.",
                  file=sys.stderr)
            problems += 1
    return problems


def record(solutions: Path) -> None:
    """Execute every solution (smoke profile) and store only its check cells' outputs."""
    from nbclient import NotebookClient

    smoke_env = Path(__file__).resolve().parent.parent / "tests" / "smoke.env"
    for line in smoke_env.read_text().splitlines():     # the tests' environment, one source
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            os.environ.setdefault(key, value)
    for path in sorted(solutions.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        count = 0
        for cell in nb.cells:
            cell.metadata.pop("execution", None)          # nbclient's timestamps
            if cell.cell_type != "code":
                continue
            count += 1
            if is_check_cell(cell):
                cell.outputs = [o for o in cell.outputs
                                if o.output_type == "stream" and o.name == "stdout"]
                cell.execution_count = count
            else:
                cell.outputs, cell.execution_count = [], None
        nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
        nb.metadata["language_info"] = {"name": "python"}
        path.write_text(render(nb), encoding="utf-8")
        print(f"recorded {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if exercises/ would change or a solution is malformed")
    ap.add_argument("--record", action="store_true",
                    help="execute the solutions and store their check lines first")
    ap.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    ap.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    args = ap.parse_args(argv)
    if args.record:
        record(args.solutions)
    problems = generate(args.solutions, args.exercises, check=args.check)
    if problems:
        print(f"{problems} problem(s) found", file=sys.stderr)
        return 1
    if args.check:
        print(f"exercises/ is up to date with {args.solutions.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
