"""tools/grade.py: a class's notebooks graded with the course's own checks, each isolated."""
import csv
import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import grade  # noqa: E402
import make_exercises as mx  # noqa: E402

EXERCISES = grade.exercise_names()
# Blind wrong answers (tests/checker_answers), a loss and a schedule: the grader shows the
# checker's own hint (from the table that tests the checkers directly for every answer,
# tests/test_checker_answers.py: HINTS). That every exercise's checks are wired into the
# grader is shown by the solutions passing and the stubs failing every check.
WRONG = ["beta_vae/kl_times_beta_twice", "kl_annealing/linear_0d_array"]


def _answer_notebook(key: str) -> nbformat.NotebookNode:
    """The exercise's set-up and import cells, then the answer file's code, as a learner would."""
    exercise = key.split("/")[0]
    nb = nbformat.read(ROOT / "exercises" / f"{exercise}.ipynb", as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "YOUR CODE HERE" in cell.source:
            break
        cells.append(cell)
    answer = (ROOT / "tests" / "checker_answers" / f"{key}.py").read_text()
    nb.cells = cells + [nbformat.v4.new_code_cell(answer)]
    return nb


def _tiny(source: str) -> nbformat.NotebookNode:
    """A one-cell notebook (hostile cases need nothing else to misbehave)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


HOSTILE = {
    "exits": ("import sys; sys.exit(3)", "SystemExit"),
    "osexit": ("import os; os._exit(1)", "kernel died"),
    "crash": ("import ctypes; ctypes.string_at(0)", "kernel died"),
    "chatty": (f"print('x' * {3 * grade.MAX_OUTPUT})", "printed more than"),  # 3 MB: over the limit
    "deleter": ("import os\nfor p in os.listdir('.'): os.remove(p)", "check_beta_vae_loss|NameError"),
    "peeker": ("import course_utils, pathlib\n"
               "root = pathlib.Path(course_utils.__file__).parents[1]\n"
               "assert not (root / 'solutions').exists(), 'solutions reachable from course_utils'\n"
               "import solutions", "ModuleNotFoundError: No module named 'solutions'"),
}


def test_find_submissions_reads_both_layouts_and_refuses_others(tmp_path):
    (tmp_path / "ada").mkdir()
    for path in [tmp_path / "ada" / "beta_vae.ipynb", tmp_path / "bob__kl_annealing.ipynb"]:
        path.write_text("{}")
    assert [(l, e) for l, e, _ in grade.find_submissions(tmp_path)] == [
        ("ada", "beta_vae"), ("bob", "kl_annealing")]
    (tmp_path / "stray.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="stray.ipynb.*<learner>__<exercise>.ipynb"):
        grade.find_submissions(tmp_path)
    with pytest.raises(ValueError, match="is not a folder"):
        grade.find_submissions(tmp_path / "missing")


def test_every_exercise_has_check_calls_the_grader_can_run():
    for exercise in EXERCISES:
        calls = grade.exercise_checks(exercise)
        assert calls, exercise
        import course_utils.checks as checks
        assert all(hasattr(checks, name) for name, _ in calls), calls


def test_summary_counts_passes_per_check_and_the_most_common_hints():
    rows = [{"learner": l, "exercise": "beta_vae", "check": "check_beta_vae_loss",
             "passed": ok, "hint": hint, "seconds": 1.0}
            for l, ok, hint in [("a", True, ""), ("b", False, "factor 1/2"), ("c", False, "factor 1/2")]]
    text = grade.summary(rows, graded=3, total=3)
    assert "| check_beta_vae_loss | 1/3 |" in text
    assert "- 2× factor 1/2" in text


@pytest.mark.parametrize("kwargs, match", [({"workers": 0}, "workers"), ({"timeout": -1}, "timeout"),
                                           ({"profile": "fast"}, "profile")])
def test_grade_refuses_bad_settings(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        grade.grade(tmp_path, tmp_path / "out", progress=False, **kwargs)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Solutions (ada), untouched stubs (bob) and hostile notebooks, graded in one run."""
    subs = tmp_path_factory.mktemp("class")
    for exercise in EXERCISES:
        (subs / "ada").mkdir(exist_ok=True)
        (subs / "ada" / f"{exercise}.ipynb").write_bytes((ROOT / "solutions" / f"{exercise}.ipynb").read_bytes())
        (subs / f"bob__{exercise}.ipynb").write_bytes((ROOT / "exercises" / f"{exercise}.ipynb").read_bytes())
    for learner, (source, _) in HOSTILE.items():
        nbformat.write(_tiny(source), subs / f"{learner}__beta_vae.ipynb")
    for key in WRONG:
        exercise, slug = key.split("/")
        nbformat.write(_answer_notebook(key), subs / f"w-{slug}__{exercise}.ipynb")
    (subs / "broken__beta_vae.ipynb").write_text("{not json")
    nbformat.write(_tiny("1"), subs / "typo__beta_vea.ipynb")
    out = subs.parent / "grades"
    rows = grade.grade(subs, out, workers=2, timeout=240, progress=False)
    return subs, out, rows


def _rows(rows, learner):
    return [r for r in rows if r["learner"] == learner]


@pytest.mark.slow
def test_solutions_pass_every_check_and_stubs_fail_every_check(graded_class):
    _, _, rows = graded_class
    ada, bob = _rows(rows, "ada"), _rows(rows, "bob")
    assert {r["exercise"] for r in ada} == set(EXERCISES)
    assert all(r["passed"] for r in ada), [r for r in ada if not r["passed"]]
    assert not any(r["passed"] for r in bob), [r for r in bob if r["passed"]]
    # A stub's hint is the checker's own: implement the function first.
    assert all("NotImplementedError" in r["hint"] or "implement" in r["hint"] for r in bob)


def _outputs_text(cell) -> str:
    """Everything a cell showed: streams, errors (with tracebacks) and plain-text results."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] == "error":
            parts += [f"{out['ename']}: {out['evalue']}", *out.get("traceback", [])]
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return grade.ANSI.sub("", "\n".join(parts))


def _executed(out, learner, exercise):
    path = grade.executed_path(out, learner, exercise)
    assert path.exists(), f"the grader kept no executed copy of {learner}/{exercise}"
    return nbformat.read(path, as_version=4)


# Hints a learner must see on the untouched exercise beyond the first one (the active-units
# stub's hint names the classic mistake: a per-batch variance instead of the whole set's).
# The latent-size stub stops before training its five models (checks.require_passed).
MUST_SHOW = {"latent_size": ("the variance over the images (dim=0",
                             "check_rate_distortion and check_active_units have not passed")}


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES)
def test_an_untouched_exercise_fails_every_check_cell_naming_what_to_implement(graded_class, exercise):
    """The stub (bob) as the grader ran it: the set-up runs, every check cell of the exercise
    fails, naming the answer to implement, and the stub's own hint is shown. (The learner's
    command, pytest + nbval on the same notebook, is run in tests/test_exercises.py.)"""
    _, out, _ = graded_class
    nb = _executed(out, "bob", exercise)
    cells = [c for c in nb.cells if c.cell_type == "code"
             and "grader-check" not in c.metadata.get("tags", [])]
    assert cells[0].get("execution_count") and not any(o["output_type"] == "error"
                                                       for o in cells[0].outputs), "set-up cell"
    shown = "\n".join(_outputs_text(c) for c in cells)
    checked = 0
    for cell in cells:
        call = grade.CHECK_CALL.search(cell.source)
        if call is None:
            continue
        checked += 1
        assert any(o["output_type"] == "error" for o in cell.outputs), f"{call.group(1)} did not fail"
        assert f"implement `{call.group(2)}" in _outputs_text(cell), f"no hint naming {call.group(2)}"
    assert checked >= 1
    solution = nbformat.read(ROOT / "solutions" / f"{exercise}.ipynb", as_version=4)
    hints = [h for c in solution.cells if c.cell_type == "code"
             for h in mx.hint_lines(c.source.split("\n"))]
    assert any(h in shown for h in hints), "the stub's hint must be shown"
    for hint in MUST_SHOW.get(exercise, ()):
        assert hint in shown, f"the hint {hint!r} must be shown"


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_solution_prints_the_check_lines_it_has_recorded(graded_class, exercise):
    """The solutions' check cells store the lines their checks print (quoted in the book and
    the README); run by the grader (ada), each prints exactly those again."""
    _, out, _ = graded_class
    solution = nbformat.read(ROOT / "solutions" / f"{exercise}.ipynb", as_version=4)
    ran = _executed(out, "ada", exercise)
    compared = 0
    for recorded, now in zip(solution.cells, ran.cells):
        assert recorded.source == now.source
        if recorded.cell_type == "code" and mx.is_check_cell(recorded):
            compared += 1
            streams = ["".join(o["text"] for o in c.outputs if o["output_type"] == "stream")
                       for c in (recorded, now)]
            assert streams[0] and streams[0] == streams[1], (recorded.source, streams)
    assert compared >= 1


@pytest.mark.slow
@pytest.mark.parametrize("learner", sorted(HOSTILE))
def test_hostile_notebooks_fail_with_their_reason(graded_class, learner):
    _, _, rows = graded_class
    mine = _rows(rows, learner)
    assert mine and not any(r["passed"] for r in mine), mine
    import re
    assert any(re.search(HOSTILE[learner][1], r["hint"]) for r in mine), mine


@pytest.mark.slow
def test_a_file_that_is_not_a_notebook_or_names_no_exercise_is_a_failure_with_the_reason(graded_class):
    _, _, rows = graded_class
    assert all("not a valid notebook" in r["hint"] for r in _rows(rows, "broken"))
    typo = _rows(rows, "typo")
    assert typo and all("no exercise named 'beta_vea'" in r["hint"] and not r["passed"] for r in typo)


@pytest.mark.slow
def test_csv_and_summary_are_written_and_a_rerun_grades_only_what_changed(graded_class):
    subs, out, rows = graded_class
    with open(out / "grades.csv") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(rows) and set(table[0]) == set(grade.FIELDS)
    assert "## beta_vae" in (out / "grades.md").read_text()
    # Change one notebook: only it is graded again; the others come from the cache.
    nbformat.write(_tiny("raise ValueError('edited')"), subs / "exits__beta_vae.ipynb")
    again = grade.grade(subs, out, workers=1, timeout=60, progress=False)
    assert "1 graded in this run" in (out / "grades.md").read_text()
    assert any("edited" in r["hint"] for r in _rows(again, "exits"))
    assert _rows(again, "ada") == _rows(rows, "ada")
    cache = json.loads((out / "cache.json").read_text())
    assert len(cache) == len({(r["learner"], r["exercise"]) for r in again})


@pytest.mark.slow
def test_an_endless_loop_is_stopped_at_the_time_limit(tmp_path):
    nbformat.write(_tiny("while True: pass"), tmp_path / "loop__beta_vae.ipynb")
    nbformat.write(_tiny("print('fine')"), tmp_path / "calm__beta_vae.ipynb")
    rows = grade.grade(tmp_path, tmp_path / "out", workers=2, timeout=5, progress=False)
    loop = _rows(rows, "loop")
    assert loop and all("time limit" in r["hint"] and not r["passed"] for r in loop)
    calm = _rows(rows, "calm")
    assert [r["passed"] for r in calm if r["check"] == grade.RUNS_TOP_TO_BOTTOM] == [True]


@pytest.mark.slow
@pytest.mark.parametrize("key", WRONG)
def test_a_wrong_answer_fails_its_check_with_the_hint_that_names_the_mistake(graded_class, key):
    import re
    sys.path.insert(0, str(ROOT / "tests"))
    from test_checker_answers import CHECKERS, HINTS
    _, _, rows = graded_class
    exercise, slug = key.split("/")
    mine = {r["check"]: r for r in _rows(rows, f"w-{slug}")}
    module_names = [n for n in CHECKERS[exercise] if f"def {n}" in
                    (ROOT / "tests" / "checker_answers" / f"{key}.py").read_text()
                    or f"class {n}" in (ROOT / "tests" / "checker_answers" / f"{key}.py").read_text()]
    checker = CHECKERS[exercise][module_names[0]]
    assert not mine[checker]["passed"]
    assert re.search(HINTS[key], mine[checker]["hint"]), mine[checker]["hint"]
