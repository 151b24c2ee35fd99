"""Test-wide settings, read from ``tests/smoke.env`` (the one place they are written).

Offline, smoke profile, one thread, no progress bars. ``COURSE_DOWNLOAD=0`` is forced (tests
never touch the network); the others are defaults a caller may override. Notebook kernels
started by nbval inherit this environment. MPLBACKEND is deliberately not set: kernels must
keep matplotlib's inline backend (as for a learner); unit tests that draw use the Agg backend
themselves (matplotlib picks Agg when no display is present).
"""
import os
from pathlib import Path

SMOKE_ENV_FILE = Path(__file__).with_name("smoke.env")


def read_smoke_env(path: Path = SMOKE_ENV_FILE) -> dict:
    """``KEY=VALUE`` lines of ``tests/smoke.env`` as a dict (comments and blanks skipped)."""
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"{path}: expected KEY=VALUE, got {line!r}")
            env[key.strip()] = value.strip()
    return env


for _key, _value in read_smoke_env().items():
    os.environ.setdefault(_key, _value)
os.environ["COURSE_DOWNLOAD"] = "0"  # tests never touch the network

# Unit tests run in this process: give torch the same thread count as the notebooks get
# (many threads on a loaded 2-core machine make tiny tensor ops wait on each other).
import torch  # noqa: E402

torch.set_num_threads(int(os.environ["COURSE_THREADS"]))


def pytest_collection_modifyitems(session, config, items):
    """Long scopes first, quick ones last, so that under xdist (``--dist loadscope
    --no-loadscope-reorder``, as ``make test`` runs it) the quick unit tests fill both cores at
    the end instead of one core waiting for a notebook: the class the grader grades
    (tests/test_grade.py, two to three minutes on one worker), then the chapter notebooks
    (10-45 s each), then the tests marked slow, then the rest. Only the order changes; every
    test still runs. (xdist's default reorders scopes by their number of tests instead.)"""
    def rank(item):
        if item.nodeid.startswith("tests/test_grade.py::"):
            return 0
        if item.nodeid.startswith("chapters/"):
            return 1
        return 2 if item.get_closest_marker("slow") else 3
    items.sort(key=rank)  # stable: the order inside each group is the collection order
