"""Exercises: generated from the solutions, failing when untouched, passing when completed.

The learner's command (``make check EX=<name>``) is pytest with nbval on one exercise
notebook. The slow test below runs exactly that command in a subprocess on one untouched
exercise: the set-up cell passes, every check cell fails, and the output names what to
implement (the checker's "implement `...` first" line and the stub's hint). That every
untouched exercise does the same is tested on the notebooks as the grader ran them
(tests/test_grade.py, which runs every exercise and every solution once).

That a completed exercise passes follows from two fast facts tested here: the exercise with
each stub replaced by the solution's block *is* the solution minus its markers, and the
solutions themselves pass every check and print their recorded check lines
(tests/test_grade.py).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises as mx  # noqa: E402

SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
NAMES = ["beta_vae", "conditional_vae", "kl_annealing", "latent_size", "mse_vs_bce"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STUB = re.compile(r'^[ \t]*# YOUR CODE HERE\n\s*raise NotImplementedError\(.*\)$', re.M)
CHECK_CALL = re.compile(r"checks\.(check_\w+)\((\w+)\)")


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def learners_command(notebook: Path, cwd: Path) -> str:
    """What ``make check EX=...`` runs, in a subprocess; returns its output without colours."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax",
           "-rA", "--tb=short", str(notebook)]
    # The test environment (smoke profile, offline, one thread) is inherited; this run's
    # own pytest/xdist bookkeeping is not.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    return done.returncode, ANSI.sub("", done.stdout + done.stderr)


def completed_exercise(name: str):
    """The exercise notebook with every stub replaced by the solution's code, in order."""
    exercise, solution = read(EXERCISES / f"{name}.ipynb"), read(SOLUTIONS / f"{name}.ipynb")
    blocks = [b for c in code_cells(solution) for b in mx.solution_blocks(c.source)]
    for cell in code_cells(exercise):
        cell.source = STUB.sub(lambda m: blocks.pop(0), cell.source)
    assert blocks == [], "every solution block must have a stub in the exercise"
    return exercise


# ---------------------------------------------------------------- generation


def test_every_exercise_has_a_solution_master():
    assert sorted(p.stem for p in SOLUTIONS.glob("*.ipynb")) == NAMES
    assert sorted(p.stem for p in EXERCISES.glob("*.ipynb")) == NAMES


def test_regenerating_the_exercises_changes_nothing(tmp_path):
    assert mx.generate(SOLUTIONS, tmp_path) == 0
    for name in NAMES:
        regenerated = (tmp_path / f"{name}.ipynb").read_text(encoding="utf-8")
        committed = (EXERCISES / f"{name}.ipynb").read_text(encoding="utf-8")
        assert regenerated == committed, (f"exercises/{name}.ipynb is stale: run "
                                          "python tools/make_exercises.py")


def test_check_mode_passes_on_the_repository_and_fails_on_a_stale_exercise(tmp_path):
    ok = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    stale = tmp_path / "exercises"
    stale.mkdir()
    for name in NAMES:
        (stale / f"{name}.ipynb").write_text((EXERCISES / f"{name}.ipynb").read_text())
    (stale / "beta_vae.ipynb").write_text((SOLUTIONS / "beta_vae.ipynb").read_text())
    bad = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check",
                          "--exercises", str(stale)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "beta_vae.ipynb is out of date" in bad.stderr


def test_solutions_store_only_their_check_lines():
    for name in NAMES:
        assert mx.solution_problems(read(SOLUTIONS / f"{name}.ipynb"), name) == []


def test_exercises_hold_stubs_and_no_solution_code():
    for name in NAMES:
        exercise, solution = read(EXERCISES / f"{name}.ipynb"), read(SOLUTIONS / f"{name}.ipynb")
        text = "\n".join(c.source for c in exercise.cells)
        assert mx.BEGIN not in text and mx.END not in text and mx.CHECK_MARKER not in text
        assert all(not c.outputs and c.execution_count is None for c in code_cells(exercise))
        n_blocks = sum(len(mx.solution_blocks(c.source)) for c in code_cells(solution))
        assert len(STUB.findall(text)) == n_blocks > 0
        for block in (b for c in code_cells(solution) for b in mx.solution_blocks(c.source)):
            for line in block.split("\n"):
                if len(line.strip()) > 25:                 # a distinctive line of the answer
                    assert line.strip() not in text, f"{name}: solution line leaked: {line}"


def test_generator_stubs_blocks_with_hints_at_their_indentation():
    source = "\n".join([
        "def f(x):",
        "    '''doc'''",
        "    ### BEGIN SOLUTION",
        "    # HINT: square \"x\"",
        "    return x * x",
        "    ### END SOLUTION",
        "",
        "def g():",
        "    ### BEGIN SOLUTION",
        "    return 1",
        "    ### END SOLUTION",
    ])
    stubbed, n = mx.stub_source(source)
    assert n == 2
    assert stubbed.split("\n") == [
        "def f(x):",
        "    '''doc'''",
        "    # YOUR CODE HERE",
        '    raise NotImplementedError("square \\"x\\"")',
        "",
        "def g():",
        "    # YOUR CODE HERE",
        f'    raise NotImplementedError("{mx.DEFAULT_HINT}")',
    ]
    namespace = {}
    exec(stubbed, namespace)
    with pytest.raises(NotImplementedError, match='square "x"'):
        namespace["f"](2)


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
])
def test_generator_rejects_malformed_markers(source, problem):
    with pytest.raises(mx.MarkupError, match=problem):
        mx.stub_source(source)


def test_generator_drops_solution_only_cells_and_check_markers():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_markdown_cell("answers", metadata={"tags": ["solution-only"]}),
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n"
                                  "    ### END SOLUTION"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\ncheck(f)", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="ok\n")]),
    ])
    exercise = mx.make_exercise(nb)
    assert [c.source for c in exercise.cells] == [
        "# Title", 'def f():\n    # YOUR CODE HERE\n    raise NotImplementedError('
        f'"{mx.DEFAULT_HINT}")', "check(f)"]
    assert exercise.cells[2].outputs == [] and exercise.cells[2].execution_count is None
    assert nb.cells[3].outputs, "the solution itself is left untouched"
    with pytest.raises(mx.MarkupError, match="no"):
        mx.make_exercise(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))


# ---------------------------------------------------------------- the learner's command


@pytest.mark.slow
class TestUntouchedExercise:
    # One exercise is enough to prove the command reports per cell; every exercise's cells
    # and hints are checked on the grader's run (tests/test_grade.py).
    @pytest.mark.parametrize("name", ["beta_vae"])
    def test_fails_every_check_cell_naming_what_to_implement(self, name):
        notebook = EXERCISES / f"{name}.ipynb"
        rc, out = learners_command(notebook, ROOT)
        assert rc != 0, out[-3000:]
        assert re.search(r"PASSED \S+::Cell 0\b", out), "the setup cell itself must run"
        failed = {int(n) for n in re.findall(r"FAILED \S+::Cell (\d+)", out)}
        cells = code_cells(read(notebook))
        solution = read(SOLUTIONS / f"{name}.ipynb")
        hints = [h for c in code_cells(solution) for h in mx.hint_lines(c.source.split("\n"))]
        checked = 0
        for index, cell in enumerate(cells):
            call = CHECK_CALL.search(cell.source)
            if call is None:
                continue
            checked += 1
            assert index in failed, f"check cell {index} ({call.group(1)}) did not fail"
            assert f"implement `{call.group(2)}" in out, f"no hint naming {call.group(2)}"
        assert checked >= 1
        assert any(h in out for h in hints), "the stub's hint must be shown"


# ---------------------------------------------------------------- the completed exercise


@pytest.mark.parametrize("name", NAMES)
def test_the_completed_exercise_is_the_solution_without_its_markers(name):
    solution = read(SOLUTIONS / f"{name}.ipynb")
    expected = [mx.without_markers(c.source) for c in code_cells(solution)
                if mx.SOLUTION_ONLY not in c.get("metadata", {}).get("tags", [])]
    assert [c.source for c in code_cells(completed_exercise(name))] == expected


def test_without_markers_keeps_the_code_and_drops_markers_hints_and_the_check_marker():
    source = "\n".join(["def f(x):", "    ### BEGIN SOLUTION", "    # HINT: square it",
                        "    return x * x", "    ### END SOLUTION", "# HINT: not in a block",
                        "# NBVAL_CHECK_OUTPUT", "check(f)"])
    assert mx.without_markers(source).split("\n") == [
        "def f(x):", "    return x * x", "# HINT: not in a block", "check(f)"]
    assert mx.solution_blocks(source) == ["    return x * x"]


QUOTED_LINE = re.compile(r"`([^`\n]+: \d+/\d+ checks passed)`")


def recorded_check_lines() -> set:
    lines = set()
    for name in NAMES:
        for cell in code_cells(read(SOLUTIONS / f"{name}.ipynb")):
            if mx.is_check_cell(cell):
                lines.update(o.text.strip() for o in cell.outputs if o.output_type == "stream")
    return lines


def test_every_quoted_check_line_is_one_a_checker_prints():
    recorded = recorded_check_lines()
    places = [*(SOLUTIONS.glob("*.ipynb")), *(EXERCISES.glob("*.ipynb")),
              EXERCISES / "index.md", ROOT / "README.md"]
    quoted = 0
    for path in places:
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
        else:
            text = path.read_text(encoding="utf-8")
        for line in QUOTED_LINE.findall(text):
            quoted += 1
            assert line in recorded, (f"{path.relative_to(ROOT)} quotes {line!r}, which no "
                                      f"checker prints (recorded: {sorted(recorded)})")
    assert quoted >= len(NAMES)
