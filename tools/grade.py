"""Grade a class's exercise notebooks with the course's own checks, offline.

Usage (from the repository root; ``make grade SUBMISSIONS=<folder>`` runs the same)::

    python tools/grade.py SUBMISSIONS [--out grades] [--workers 2] [--timeout SECONDS]
                          [--profile smoke] [--regrade]

``SUBMISSIONS`` holds the learners' notebooks in either layout (both may be mixed):

* one folder per learner: ``SUBMISSIONS/<learner>/<exercise>.ipynb``
* flat files: ``SUBMISSIONS/<learner>__<exercise>.ipynb``

``<exercise>`` is the name of a notebook in ``exercises/`` (``beta_vae``, ``conditional_vae``,
``kl_annealing``, ``latent_size``, ``mse_vs_bce``).

Each notebook runs in its own fresh kernel process: in a scratch working directory of its
own, with a time limit (``--timeout``; by default from the profile), downloads forbidden
(``COURSE_DOWNLOAD=0``) and a copy of ``course_utils`` as the only course code on its path
(the repository, and so ``solutions/``, is not on it). After the learner's cells, the grader
runs the course's check calls itself (the same ``checks.check_*`` calls as the exercise's
check cells, from a freshly reloaded checker module), so a check cell edited or deleted by the
learner changes nothing. A notebook that raises, loops, exits, kills its kernel, prints more
than ``--max-output`` bytes or is not a notebook at all is graded as failed with the reason;
it never stops the grading of the others.

Results in ``--out``: ``grades.csv`` (learner, exercise, check, passed, hint, seconds), one row
per check plus a ``runs top to bottom`` row per notebook; ``grades.md``, the class summary
(per exercise: how many learners passed each check, and the most common hints); and
``cache.json``: a re-run grades only notebooks whose content (or the course's checks)
changed, unless ``--regrade``; and ``notebooks/<learner>/<exercise>.ipynb``, each notebook as
the grader ran it (the learner's cells with their outputs, then the course's check calls,
tagged ``grader-check``), to read a failure in its context.
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures as futures
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
RUNS_TOP_TO_BOTTOM = "runs top to bottom"
CHECK_CALL = re.compile(r"checks\.(check_\w+)\((\w+)\)")
# Seconds one notebook may take, per profile (the exercises' smoke runs take 10-40 s on 2 cores).
DEFAULT_TIMEOUT = {"smoke": 300, "standard": 1800, "full": 3600}
CHECK_TIMEOUT = 120  # seconds for each of the course's own check calls after the notebook
MAX_OUTPUT = 1_000_000  # bytes of output a notebook may print before it is stopped
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FIELDS = ["learner", "exercise", "check", "passed", "hint", "seconds"]


class GradingError(Exception):
    """The notebook could not be graded as a whole (the reason goes into every row)."""


# --------------------------------------------------------------------------- discovery
def exercise_names() -> list[str]:
    return sorted(p.stem for p in EXERCISES.glob("*.ipynb"))


def exercise_checks(exercise: str) -> list[tuple[str, str]]:
    """The ``(checker, answer name)`` pairs the exercise's check cells call, in order."""
    nb = json.loads((EXERCISES / f"{exercise}.ipynb").read_text())
    calls = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            calls += CHECK_CALL.findall("".join(cell["source"]))
    return calls


def find_submissions(folder: Path) -> list[tuple[str, str, Path]]:
    """``(learner, exercise, path)`` for every notebook in either layout, sorted.

    Names are taken as written; an unknown exercise name is kept (and graded as a failure
    that says so), a notebook in neither layout raises ``ValueError`` naming it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS={folder} is not a folder: pass the folder that holds "
                         "<learner>/<exercise>.ipynb or <learner>__<exercise>.ipynb")
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if ".ipynb_checkpoints" in rel.parts:
            continue
        if len(rel.parts) == 2:
            found.append((rel.parts[0], path.stem, path))
        elif len(rel.parts) == 1 and "__" in path.stem:
            learner, exercise = path.stem.split("__", 1)
            found.append((learner, exercise, path))
        else:
            raise ValueError(
                f"{rel}: not in a layout the grader knows; use <learner>/<exercise>.ipynb or "
                f"<learner>__<exercise>.ipynb (exercises: {', '.join(exercise_names())})")
    return found


# --------------------------------------------------------------------------- one notebook
def _grader_cell(exercise: str, checker: str, answer: str) -> str:
    module = f"course_utils.checks.{exercise}"
    return (f"import importlib as _grader_importlib\n"
            f"import course_utils.checks._harness as _grader_harness\n"
            f"_grader_importlib.reload(_grader_harness)\n"
            f"_grader_checker = getattr(_grader_importlib.reload(_grader_importlib.import_module({module!r})), {checker!r})\n"
            f"_grader_checker({answer})\n")


def _short(text: str, limit: int = 300) -> str:
    text = ANSI.sub("", text).strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_of(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return _short(f"{out['ename']}: {out['evalue']}")
    return None


def run_one(path: Path, exercise: str, workdir: Path, site: Path, timeout: float,
            max_output: int, profile: str, executed: Path | None = None) -> list[dict]:
    """Execute one notebook and run the course's checks after it; rows without learner.

    Runs in the grading subprocess. ``executed``: where to write the notebook as it ran
    (outputs included), if given. Raises :class:`GradingError` when the notebook cannot be
    graded at all (not a notebook, unknown exercise).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if exercise not in exercise_names():
        raise GradingError(f"no exercise named {exercise!r}; the exercises are "
                           f"{', '.join(exercise_names())}")
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:
        raise GradingError(f"not a valid notebook: {_short(str(err), 200)}") from None
    checks = exercise_checks(exercise)
    learner_cells = len(nb.cells)
    for checker, answer in checks:
        nb.cells.append(nbformat.v4.new_code_cell(_grader_cell(exercise, checker, answer),
                                                  metadata={"tags": ["grader-check"]}))

    class LimitedClient(NotebookClient):
        printed = 0

        def output(self, outs, msg, display_id, cell_index):
            self.printed += len(json.dumps(msg["content"]))
            if self.printed > max_output:
                raise GradingError(f"printed more than {max_output:,} bytes of output; "
                                   "stopped (print less: summaries, not whole tensors)")
            return super().output(outs, msg, display_id, cell_index)

    client = LimitedClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(workdir)}},
                           record_timing=False,
                           # every output is in before the kernel stops: kill it rather than
                           # wait about 2 s for a graceful exit (torch's teardown) per notebook
                           shutdown_kernel="immediate")
    stop_reason = None
    started = time.perf_counter()
    deadline = started + timeout
    try:
        with client.setup_kernel(cwd=str(workdir)):
            for index, cell in enumerate(nb.cells):
                ours = index >= learner_cells
                # The learner's cells share the notebook's time limit; each of the course's
                # check calls gets its own CHECK_TIMEOUT, so a slow notebook is not blamed on them.
                client.timeout = CHECK_TIMEOUT if ours else max(1, int(deadline - time.perf_counter()))
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    stop_reason = (f"the course's check {checks[index - learner_cells][0]} ran longer than "
                                   f"{CHECK_TIMEOUT} s" if ours else
                                   f"over the time limit ({timeout:.0f} s for the notebook): an "
                                   "endless loop, or too much work for the profile")
                    break
    except DeadKernelError:
        stop_reason = ("the kernel died (os._exit, a crash, or running out of memory); "
                       "the cells after it did not run")
    except GradingError as err:
        stop_reason = str(err)
    except Exception as err:  # anything else the kernel did to the client
        stop_reason = _short(f"the notebook stopped the kernel: {type(err).__name__}: {err}")
    stopped_in_learner_cells = stop_reason is not None and not any(
        c.get("execution_count") for c in nb.cells[learner_cells:])
    seconds = round(time.perf_counter() - started, 1)
    if executed is not None:
        nbformat.write(nb, executed)

    rows = []
    first_error = None
    for i, cell in enumerate(nb.cells[:learner_cells]):
        if cell.cell_type == "code" and (err := _error_of(cell)):
            first_error = f"cell {i + 1}: {err}"
            break
    top = (stop_reason if stopped_in_learner_cells else None) or first_error
    rows.append({"check": RUNS_TOP_TO_BOTTOM, "passed": top is None, "hint": top or "",
                 "seconds": seconds})
    for (checker, _answer), cell in zip(checks, nb.cells[learner_cells:]):
        err = _error_of(cell)
        ran = "execution_count" in cell and cell.get("execution_count") is not None
        text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                       if o.get("output_type") == "stream")
        if err is None and ran and "passed" in text:
            rows.append({"check": checker, "passed": True, "hint": "", "seconds": seconds})
        else:
            hint = err or stop_reason or "the check did not run"
            rows.append({"check": checker, "passed": False, "hint": hint, "seconds": seconds})
    return rows


def _child_main(args) -> int:
    """``--run-one``: grade one notebook in this process, write its rows as JSON."""
    try:
        rows = run_one(Path(args.run_one), args.exercise, Path(args.workdir), Path(args.site),
                       args.timeout, args.max_output, args.profile,
                       Path(args.executed) if args.executed else None)
    except GradingError as err:
        rows = failed_rows(args.exercise, str(err), 0.0)
    Path(args.result).write_text(json.dumps(rows))
    return 0


def failed_rows(exercise: str, reason: str, seconds: float) -> list[dict]:
    """Every row of one notebook failed with the same reason."""
    try:
        checks = [c for c, _ in exercise_checks(exercise)]
    except (OSError, ValueError):
        checks = []
    return [{"check": name, "passed": False, "hint": reason, "seconds": seconds}
            for name in [RUNS_TOP_TO_BOTTOM] + checks]


def kernel_env(site: Path, workdir: Path, profile: str) -> dict:
    """The environment of a grading process and its kernel: offline, quiet, isolated."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COURSE_", "PYTHON", "JUPYTER", "IPYTHON"))}
    env.update(COURSE_PROFILE=profile, COURSE_DOWNLOAD="0", COURSE_THREADS="1",
               TQDM_DISABLE="1", PYTHONHASHSEED="0", MPLBACKEND="Agg",
               PYTHONPATH=str(site), PYTHONNOUSERSITE="1",
               HOME=str(workdir), JUPYTER_PLATFORM_DIRS="1",
               IPYTHONDIR=str(workdir / ".ipython"))
    if "COURSE_DATA" in os.environ:  # the class's data folder (offline copies), read only
        env["COURSE_DATA"] = os.environ["COURSE_DATA"]
    else:
        env["COURSE_DATA"] = str(Path.home() / ".cache" / "vae-course" / "data")
    return env


def grade_one(path: Path, exercise: str, site: Path, timeout: float, max_output: int,
              profile: str, keep: Path | None = None) -> list[dict]:
    """Grade one notebook in a fresh process group, killed whole at the time limit.

    keep: where to copy the notebook as it ran (with outputs), when it ran at all.
    """
    started = time.perf_counter()
    if keep is not None:
        keep.unlink(missing_ok=True)        # never leave an earlier run's copy behind
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        notebook = workdir / "submission.ipynb"
        shutil.copyfile(path, notebook)
        result = Path(tmp) / "result.json"
        executed = Path(tmp) / "executed.ipynb"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--run-one", str(notebook),
               "--exercise", exercise, "--workdir", str(workdir), "--site", str(site),
               "--timeout", str(timeout), "--max-output", str(max_output),
               "--profile", profile, "--result", str(result), "--executed", str(executed)]
        proc = subprocess.Popen(cmd, cwd=workdir, env=kernel_env(site, workdir, profile),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout + 60 + CHECK_TIMEOUT * len(exercise_checks(exercise))
                                      if exercise in exercise_names() else timeout + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return failed_rows(exercise, f"over the time limit ({timeout:.0f} s): an endless "
                               "loop, or too much work for the profile", timeout)
        finally:
            with _suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # a kernel the notebook left behind
        seconds = round(time.perf_counter() - started, 1)
        if not result.exists():
            tail = _short(err.decode(errors="replace")[-300:]) if err else ""
            return failed_rows(exercise, f"the grading process failed ({proc.returncode}): "
                               f"{tail}", seconds)
        rows = json.loads(result.read_text())
        if keep is not None and executed.exists():
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(executed, keep)
    for row in rows:
        row["seconds"] = seconds
    return rows


class _suppress:
    def __init__(self, *kinds):
        self.kinds = kinds

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, self.kinds)


# --------------------------------------------------------------------------- the class
def course_fingerprint(profile: str) -> str:
    """Changes whenever the grader, the course's checks, exercises or the profile change."""
    h = hashlib.sha256(profile.encode())
    paths = [Path(__file__).resolve()] + sorted((ROOT / "course_utils").rglob("*.py"))
    for path in paths + sorted(EXERCISES.glob("*.ipynb")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def content_hash(path: Path, fingerprint: str) -> str:
    return hashlib.sha256(fingerprint.encode() + path.read_bytes()).hexdigest()


def make_site(where: Path) -> Path:
    """A folder holding only a copy of ``course_utils``: the kernels' whole course path."""
    site = where / "site"
    shutil.copytree(ROOT / "course_utils", site / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return site


def grade(submissions: Path, out: Path, workers: int = 2, timeout: float | None = None,
          profile: str = "smoke", regrade: bool = False, max_output: int = MAX_OUTPUT,
          progress: bool = True) -> list[dict]:
    """Grade every notebook in ``submissions``; write grades.csv, grades.md, cache.json."""
    if profile not in DEFAULT_TIMEOUT:
        raise ValueError(f"profile must be one of {sorted(DEFAULT_TIMEOUT)}, got {profile!r}")
    if not (isinstance(workers, int) and workers >= 1):
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    timeout = float(DEFAULT_TIMEOUT[profile] if timeout is None else timeout)
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    found = find_submissions(submissions)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache_file = out / "cache.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() and not regrade else {}
    fingerprint = course_fingerprint(profile)
    todo, results = [], {}
    for learner, exercise, path in found:
        key = path.relative_to(submissions).as_posix()
        digest = content_hash(path, fingerprint)
        if cache.get(key, {}).get("hash") == digest:
            results[key] = cache[key]["rows"]
        else:
            todo.append((key, learner, exercise, path, digest))
    with tempfile.TemporaryDirectory(prefix="grade-site-") as tmp:
        site = make_site(Path(tmp))
        bar = _progress(len(todo), progress)
        with futures.ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = {pool.submit(grade_one, path, exercise, site, timeout, max_output, profile,
                                executed_path(out, learner, exercise)):
                    (key, digest) for key, learner, exercise, path, digest in todo}
            for job in futures.as_completed(jobs):
                key, digest = jobs[job]
                results[key] = job.result()
                cache[key] = {"hash": digest, "rows": results[key]}
                cache_file.write_text(json.dumps(cache, indent=1))  # progress survives a stop
                bar.update(1)
        bar.close()
    rows = []
    for learner, exercise, path in found:
        key = path.relative_to(submissions).as_posix()
        rows += [{"learner": learner, "exercise": exercise, **row} for row in results[key]]
    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "grades.md").write_text(summary(rows, len(todo), len(found)))
    return rows


def executed_path(out: Path, learner: str, exercise: str) -> Path:
    """Where the grader keeps ``learner``'s ``exercise`` notebook as it ran."""
    return Path(out) / "notebooks" / learner / f"{exercise}.ipynb"


def _progress(total: int, show: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="grading", unit="notebook", disable=not show or total == 0,
                file=sys.stderr)


def summary(rows: list[dict], graded: int, total: int) -> str:
    """The class summary in Markdown: per exercise, passes per check and common hints."""
    lines = ["# Grades: what the class got right and wrong", "",
             f"{total} notebooks ({graded} graded in this run, {total - graded} unchanged "
             "since the last run).", ""]
    by_exercise = collections.defaultdict(list)
    for row in rows:
        by_exercise[row["exercise"]].append(row)
    for exercise in sorted(by_exercise):
        ex_rows = by_exercise[exercise]
        learners = sorted({r["learner"] for r in ex_rows})
        lines += [f"## {exercise} ({len(learners)} learners)", "",
                  "| check | passed |", "|---|---|"]
        for check in dict.fromkeys(r["check"] for r in ex_rows):
            passed = sum(r["passed"] for r in ex_rows if r["check"] == check)
            lines.append(f"| {check} | {passed}/{len(learners)} |")
        hints = collections.Counter(r["hint"] for r in ex_rows if not r["passed"] and r["hint"])
        if hints:
            lines += ["", "Most common hints:", ""]
            lines += [f"- {n}× {hint.replace('|', '/')}" for hint, n in hints.most_common(5)]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("submissions", nargs="?", help="folder of the learners' notebooks")
    ap.add_argument("--out", default="grades", help="folder for grades.csv, grades.md, cache.json")
    ap.add_argument("--workers", type=int, default=2, help="notebooks graded at once")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per notebook (default per profile: %s)" % DEFAULT_TIMEOUT)
    ap.add_argument("--profile", default="smoke", help="run profile (default smoke)")
    ap.add_argument("--max-output", type=int, default=MAX_OUTPUT, help="bytes of output allowed")
    ap.add_argument("--regrade", action="store_true", help="grade every notebook again")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    # Internal: the per-notebook subprocess.
    ap.add_argument("--run-one", help=argparse.SUPPRESS)
    ap.add_argument("--exercise", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--site", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--executed", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_one:
        return _child_main(args)
    if not args.submissions:
        ap.error("give the submissions folder: python tools/grade.py SUBMISSIONS")
    try:
        rows = grade(Path(args.submissions), Path(args.out), args.workers, args.timeout,
                     args.profile, args.regrade, args.max_output, progress=not args.quiet)
    except ValueError as err:
        print(f"grade: {err}", file=sys.stderr)
        return 2
    notebooks = {(r["learner"], r["exercise"]) for r in rows}
    failed = {(r["learner"], r["exercise"]) for r in rows if not r["passed"]}
    print(f"graded {len(notebooks)} notebooks: {len(notebooks) - len(failed)} pass every check; "
          f"results in {args.out}/grades.csv and {args.out}/grades.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
