"""Time a full book build and write the times into BENCHMARKS.md (its own section only).

    python tools/book_times.py                     # standard profile, writes BENCHMARKS.md
    python tools/book_times.py --profile smoke --no-write    # a quick look, printed only
    python tools/book_times.py --from-log build.log --total 630   # times from an earlier log

Runs ``jupyter-book build`` (as ``make book`` does: every chapter executed) into a scratch
folder, in the chosen ``COURSE_PROFILE``, and reads each notebook's execution time from
myst-nb's log lines (``<notebook>: Executed notebook in 12.98 seconds``). The section it
writes, between ``<!-- book-times:start -->`` and ``<!-- book-times:end -->`` (appended at the
end of the file the first time, replaced afterwards), holds the total wall time, the time of
each notebook, the profile, ``course_utils.runtime.describe()`` and the machine's load
average before and after the build. Run it on an idle machine: the load is printed beside
the numbers because a busy machine makes every time longer.
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

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- book-times:start -->", "<!-- book-times:end -->"
EXECUTED = re.compile(r"^(?P<path>\S+\.(?:ipynb|md)): Executed notebook in "
                      r"(?P<seconds>[0-9.]+) seconds", re.MULTILINE)
LIMIT_S = 300  # the course's target: every chapter under 5 minutes on 2 idle cores


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


def section(total_s: float, times: dict[str, float], profile: str, machine: str,
            load_before: tuple, load_after: tuple, command: str) -> str:
    """The Markdown section (with its markers) for BENCHMARKS.md."""
    load = lambda avg: " / ".join(f"{x:.2f}" for x in avg)  # noqa: E731
    lines = [START, "## Book build time", "",
             f"Written by `{command}` on {datetime.date.today().isoformat()}: "
             f"`jupyter-book build` with every chapter executed, `COURSE_PROFILE={profile}`.",
             "", f"- Machine: `{machine}`",
             f"- Load average (1/5/15 min) before: {load(load_before)}; "
             f"after: {load(load_after)}",
             f"- **Total: {total_s:.0f} s ({total_s / 60:.1f} min)**; notebooks executed: "
             f"{sum(times.values()):.0f} s", "",
             "| Notebook | Execution (s) | Under 5 min |", "|---|---:|---|"]
    for path, seconds in sorted(times.items()):
        lines.append(f"| `{path}` | {seconds:.1f} | {'yes' if seconds < LIMIT_S else 'NO'} |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(benchmarks: Path, text: str) -> None:
    """Replace the book-times section of ``benchmarks`` (or append it); nothing else changes."""
    old = benchmarks.read_text() if benchmarks.exists() else "# Benchmarks\n"
    if (START in old) != (END in old):
        raise ValueError(f"{benchmarks}: only one of {START} / {END} is present; "
                         "restore the other marker or delete the partial section")
    if START in old:
        head, rest = old.split(START, 1)
        new = head + text + rest.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    benchmarks.write_text(new)


def build(profile: str, threads: str | None) -> tuple[float, str]:
    """Run ``jupyter-book build`` on the book in a scratch output folder: (seconds, log)."""
    exe = Path(sys.executable).with_name("jupyter-book")
    env = {**os.environ, "COURSE_PROFILE": profile, "TQDM_DISABLE": "1"}
    if threads:
        env["COURSE_THREADS"] = threads
    with tempfile.TemporaryDirectory(prefix="book-times-") as out:
        start = time.perf_counter()
        result = subprocess.run([str(exe if exe.exists() else "jupyter-book"), "build",
                                 str(ROOT), "--path-output", out],
                                cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    log = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"the book build failed (exit {result.returncode}):\n{log[-3000:]}")
    return seconds, log


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="standard", choices=["smoke", "standard", "full"])
    parser.add_argument("--threads", default=None, help="COURSE_THREADS for the kernels")
    parser.add_argument("--benchmarks", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    parser.add_argument("--from-log", default=None, help="read times from this build log "
                        "instead of building (needs --total)")
    parser.add_argument("--total", type=float, default=None, help="total seconds (--from-log)")
    args = parser.parse_args(argv)
    os.environ["COURSE_PROFILE"] = args.profile  # describe() names the profile
    if args.threads:
        os.environ["COURSE_THREADS"] = args.threads
    import torch

    from course_utils import runtime

    if os.environ.get("COURSE_THREADS"):  # describe() then names the kernels' thread count
        torch.set_num_threads(int(os.environ["COURSE_THREADS"]))

    load_before = os.getloadavg()
    if args.from_log:
        if args.total is None:
            parser.error("--from-log needs --total (the build's wall time in seconds)")
        total, log = args.total, Path(args.from_log).read_text(errors="replace")
    else:
        total, log = build(args.profile, args.threads)
    times = notebook_times(log)
    if not times:
        raise RuntimeError("no 'Executed notebook in ... seconds' lines in the build log: "
                           "were the notebooks executed (execute_notebooks: force)?")
    command = "python tools/book_times.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(total, times, args.profile, runtime.describe("cpu"), load_before,
                   os.getloadavg(), command.strip())
    print(text)
    if not args.no_write:
        write_section(Path(args.benchmarks), text)
        print(f"written into {args.benchmarks}")
    slow = [p for p, s in times.items() if s >= LIMIT_S]
    if slow:
        print(f"over {LIMIT_S} s: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
