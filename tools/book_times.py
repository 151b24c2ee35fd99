"""Time a full book build and write the times into BENCHMARKS.md (its own section only).

    python tools/book_times.py                     # standard profile, writes BENCHMARKS.md
    python tools/book_times.py --profile smoke --no-write    # a quick look, printed only
    python tools/book_times.py --from-log build.log --total 630   # times from an earlier log

Builds the book as ``make book`` does (``tools/execute_book.py`` executes every chapter,
``--jobs`` at once, then ``jupyter-book build`` takes their outputs) into a scratch folder,
in the chosen ``COURSE_PROFILE``, and reads each notebook's execution time from the lines
``<notebook>: Executed notebook in 12.98 seconds`` (execute_book.py's, in myst-nb's wording;
a log of a plain ``jupyter-book build`` has myst-nb's own). Each profile owns
one section, between ``<!-- book-times:PROFILE:start -->`` and ``<!-- book-times:PROFILE:end -->``
(appended at the end of the file the first time, replaced afterwards; the other profiles'
sections are left alone). A section holds the total wall time, the time of each notebook
against the profile's target (``TARGET_S``: under a minute in ``smoke``, under five minutes
in ``standard`` and ``full``), ``course_utils.runtime.describe()`` and the machine's load
average before and after the build. Run it on an idle machine: the load is printed beside
the numbers because a busy machine makes every time longer. ``--log FILE`` keeps the whole
build log (the section can be rewritten from it later with ``--from-log``).
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmarks_md  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = re.compile(r"^(?P<path>\S+\.(?:ipynb|md)): Executed notebook in "
                      r"(?P<seconds>[0-9.]+) seconds", re.MULTILINE)
# The course's targets per notebook on 2 idle cores (COURSE_PLAN): seconds, by profile.
TARGET_S = {"smoke": 60, "standard": 300, "full": 300}


def markers(profile: str) -> tuple[str, str]:
    """The start and end comments around ``profile``'s section of BENCHMARKS.md."""
    if profile not in TARGET_S:
        raise ValueError(f"unknown profile {profile!r}; use one of {', '.join(TARGET_S)}")
    return f"<!-- book-times:{profile}:start -->", f"<!-- book-times:{profile}:end -->"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 120 else f"{seconds:g} s"



def notebook_times(log: str) -> dict[str, float]:
    """``{notebook path relative to the book: seconds}`` from a myst-nb build log."""
    times = {}
    for match in EXECUTED.finditer(re.sub(r"\x1b\[[0-9;]*m", "", log)):
        path = Path(match["path"])
        try:
            path = path.resolve().relative_to(ROOT)
        except ValueError:
            pass
        times[path.as_posix()] = float(match["seconds"])
    return times


ROW = re.compile(r"^\| `(?P<path>[^`]+)` \| (?P<seconds>[0-9.]+) \|", re.MULTILINE)


def previous(benchmarks: Path, profile: str) -> dict | None:
    """The run ``profile``'s section of ``benchmarks`` holds now, to compare with the next:
    ``{"date", "machine", "total", "times": {path: seconds}}``, or None if there is none."""
    start, end = markers(profile)
    text = Path(benchmarks).read_text() if Path(benchmarks).exists() else ""
    if start not in text or end not in text:
        return None
    body = text[text.index(start):text.index(end)]
    date = re.search(r" on (\d{4}-\d{2}-\d{2})", body)
    machine = re.search(r"^- Machine: `([^`]*)`", body, re.MULTILINE)
    total = re.search(r"\*\*Total: ([0-9.]+) s", body)
    times = {m["path"]: float(m["seconds"]) for m in ROW.finditer(body)}
    if not (date and machine and total and times):
        return None
    return {"date": date[1], "machine": machine[1], "total": float(total[1]), "times": times}


def section(total_s: float, times: dict[str, float], profile: str, machine: str,
            load_before: tuple, load_after: tuple, command: str,
            before: dict | None = None, jobs: int | None = None) -> str:
    """The Markdown section (with its markers) for ``profile`` in BENCHMARKS.md.

    before: the previous run (:func:`previous`); its times are shown beside these, per
    notebook, so each run reports what it changed."""
    start, end = markers(profile)
    target = TARGET_S[profile]
    load = lambda avg: " / ".join(f"{x:.2f}" for x in avg)  # noqa: E731
    lines = [start, f"## Book build time (`{profile}` profile)", "",
             f"Written by `{command}` on {datetime.date.today().isoformat()}: "
             f"`make book`'s two steps (`tools/execute_book.py` executes every chapter, "
             f"{jobs or 'several'} at a time, then `jupyter-book build`), "
             f"`COURSE_PROFILE={profile}`.",
             "", f"- Machine: `{machine}`",
             f"- Load average (1/5/15 min) before: {load(load_before)}; "
             f"after: {load(load_after)}",
             f"- **Total: {total_s:.0f} s ({total_s / 60:.1f} min)**; the notebooks' own "
             f"times add up to {sum(times.values()):.0f} s"]
    if before is None:
        lines += ["", f"| Notebook | Execution (s) | Under {_duration(target)} |", "|---|---:|---|"]
    else:
        same = ("the same machine description" if before["machine"] == machine else
                f"another machine (`{before['machine']}`): not a like-for-like comparison")
        lines += [f"- Before: the run this section held until now ({before['date']}, {same}): "
                  f"total {before['total']:.0f} s; this run {total_s - before['total']:+.0f} s", "",
                  f"| Notebook | Execution (s) | Before (s) | Change | Under {_duration(target)} |",
                  "|---|---:|---:|---:|---|"]
    for path, seconds in sorted(times.items()):
        ok = "yes" if seconds < target else "NO"
        if before is None:
            lines.append(f"| `{path}` | {seconds:.1f} | {ok} |")
        else:
            old = before["times"].get(path)
            was, change = ("–", "new") if old is None else (f"{old:.1f}",
                                                            f"{(seconds - old) / old:+.0%}")
            lines.append(f"| `{path}` | {seconds:.1f} | {was} | {change} | {ok} |")
    lines += ["", end]
    return "\n".join(lines)


def write_section(benchmarks: Path, text: str) -> None:
    """Replace the section of ``benchmarks`` that ``text`` is (or append it); nothing else changes."""
    start, end = text.split("\n", 1)[0], text.rsplit("\n", 1)[-1]
    if not (start.startswith("<!-- book-times:") and end.startswith("<!-- book-times:")):
        raise ValueError("text is not a book-times section (made by section())")
    benchmarks_md.write_section(benchmarks, text)


def build(profile: str, threads: str | None, log_path: str | None = None,
          keep: str | None = None, jobs: int = 2) -> tuple[float, str]:
    """Build the book as ``make book`` does: ``tools/execute_book.py`` runs the notebooks,
    ``jobs`` at once, then ``jupyter-book build`` takes their outputs, into a scratch output
    folder (or ``keep``, which then holds the built book in ``keep/_build/html``):
    (seconds for both steps, both logs)."""
    exe = Path(sys.executable).with_name("jupyter-book")
    env = {**os.environ, "COURSE_PROFILE": profile, "TQDM_DISABLE": "1"}
    if threads:
        env["COURSE_THREADS"] = threads
    with tempfile.TemporaryDirectory(prefix="book-times-") as scratch:
        out = keep or scratch
        start = time.perf_counter()
        steps = [[sys.executable, str(ROOT / "tools" / "execute_book.py"), str(ROOT),
                  "--jobs", str(jobs)],
                 [str(exe if exe.exists() else "jupyter-book"), "build", str(ROOT),
                  "--config", str(ROOT / "_build" / "_config_executed.yml"), "--path-output", out]]
        log = ""
        for command in steps:
            result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            log += result.stdout + result.stderr
            if result.returncode != 0:
                break
        seconds = time.perf_counter() - start
    if log_path:
        Path(log_path).write_text(log)
    if result.returncode != 0:
        raise RuntimeError(f"the book build failed (exit {result.returncode}):\n{log[-3000:]}")
    return seconds, log


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="standard", choices=["smoke", "standard", "full"])
    parser.add_argument("--threads", default=None, help="COURSE_THREADS for each kernel "
                        "(default: the cores shared out between the jobs)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once "
                        "(make book's BOOK_JOBS; default 2)")
    parser.add_argument("--benchmarks", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    parser.add_argument("--log", default=None, help="also save the whole build log here")
    parser.add_argument("--keep", default=None, help="build into this folder and keep it "
                        "(the book is then in KEEP/_build/html, e.g. for make browser-test)")
    parser.add_argument("--from-log", default=None, help="read times from this build log "
                        "instead of building (needs --total)")
    parser.add_argument("--total", type=float, default=None, help="total seconds (--from-log)")
    args = parser.parse_args(argv)
    os.environ["COURSE_PROFILE"] = args.profile  # describe() names the profile
    # describe() below names each kernel's thread count: --threads, or the kernels' share
    # of the cores, as tools/execute_book.py gives it
    import execute_book

    os.environ["COURSE_THREADS"] = args.threads or str(execute_book.kernel_threads(args.jobs))
    import torch

    from course_utils import runtime

    torch.set_num_threads(int(os.environ["COURSE_THREADS"]))

    load_before = os.getloadavg()
    if args.from_log:
        if args.total is None:
            parser.error("--from-log needs --total (the build's wall time in seconds)")
        total, log = args.total, Path(args.from_log).read_text(errors="replace")
    else:
        total, log = build(args.profile, args.threads, args.log, args.keep, args.jobs)
    times = notebook_times(log)
    if not times:
        raise RuntimeError("no 'Executed notebook in ... seconds' lines in the build log: "
                           "were the notebooks executed?")
    command = "python tools/book_times.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(total, times, args.profile, runtime.describe("cpu"), load_before,
                   os.getloadavg(), command.strip(), before=previous(Path(args.benchmarks),
                                                                     args.profile),
                   jobs=args.jobs)
    print(text)
    if not args.no_write:
        write_section(Path(args.benchmarks), text)
        print(f"written into {args.benchmarks}")
    target = TARGET_S[args.profile]
    slow = [p for p, s in times.items() if s >= target]
    if slow:
        print(f"over {target} s: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
