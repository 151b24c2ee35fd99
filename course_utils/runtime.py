"""Run-time plumbing: which device, which run profile, and reproducible seeding.

The same notebook serves CI, a laptop and a GPU. It never branches on where it runs; it
asks this module for the device and for its budgets::

    epochs = budget(full=30, standard=5, smoke=1)

Environment variables read here:

``COURSE_PROFILE``
    ``smoke`` (tests/CI: tiny data, seconds), ``standard`` (a few minutes on a laptop CPU)
    or ``full`` (the budgets that reach the quality targets). Default: ``full`` when a CUDA
    GPU is present, ``standard`` otherwise.
``COURSE_THREADS``
    torch's CPU thread count (default: the number of cores, at most 8). Results on a CPU
    differ in the last bits across thread counts, so it is fixed by :func:`seed_everything`.
"""
from __future__ import annotations

import os
import platform
import random
from pathlib import Path

import numpy as np
import torch

__all__ = ["PROFILES", "get_device", "default_threads", "seed_everything", "profile", "budget",
           "describe", "print_setup"]

PROFILES = ("smoke", "standard", "full")


def get_device() -> torch.device:
    """The best available device: ``cuda``, else Apple ``mps``, else ``cpu``."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_threads() -> int:
    """torch's CPU thread count: ``COURSE_THREADS`` if set, else min(cores, 8)."""
    value = os.environ.get("COURSE_THREADS")
    if value is None:
        return max(1, min(os.cpu_count() or 1, 8))
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"COURSE_THREADS must be a positive integer, got {value!r}.")
    return threads


def seed_everything(seed: int = 0, threads: int | None = None) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and every CUDA device).

    Also fixes torch's CPU thread count (``threads``: a positive int; ``None``, the default,
    means :func:`default_threads`), because floating-point sums, and so results, depend on
    it. Same seed + same profile + same machine = same numbers.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}.")
    if threads is not None:
        if not isinstance(threads, int) or isinstance(threads, bool):
            raise TypeError(f"threads must be a positive int (or None for COURSE_THREADS / "
                            f"the default), got {type(threads).__name__} {threads!r}.")
        if threads < 1:
            raise ValueError(f"threads must be a positive int (or None for COURSE_THREADS / "
                             f"the default), got {threads}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.set_num_threads(default_threads() if threads is None else threads)


def profile() -> str:
    """The active run profile: ``'smoke'``, ``'standard'`` or ``'full'`` (see module doc)."""
    value = os.environ.get("COURSE_PROFILE", "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "standard"
    if value not in PROFILES:
        raise ValueError(
            f"COURSE_PROFILE={value!r} is not a run profile; use one of {', '.join(PROFILES)} "
            "(or unset it for the default: full on a GPU, standard otherwise)."
        )
    return value


def budget(*, full, standard, smoke):
    """The value for the active profile, e.g. ``epochs = budget(full=30, standard=5, smoke=1)``."""
    return {"full": full, "standard": standard, "smoke": smoke}[profile()]


def _cpu_name() -> str:
    """The CPU's model name (Linux: ``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def describe(device: torch.device | str | None = None) -> str:
    """One line naming the machine a run's numbers come from.

    The device (``device``, default :func:`get_device`; a CUDA device with its name), the
    run profile, the torch version, the CPU model with its logical cores, and torch's CPU
    threads. Printed by :func:`print_setup`; ``tools/bench.py`` writes it beside timings.
    """
    device = get_device() if device is None else torch.device(device)
    name = device.type
    if device.type == "cuda":
        name += f" ({torch.cuda.get_device_name(device)})"
    return (f"device: {name} | profile: {profile()} | torch {torch.__version__} | "
            f"CPU: {_cpu_name()}, {os.cpu_count()} logical cores | "
            f"CPU threads: {torch.get_num_threads()}")


# The book's figure style, set by print_setup (every notebook's first cell): 150 dpi, sharp
# at the book's text column (about 690 px wide) and when a phone reader zooms in. Layout and
# font sizes stay Matplotlib's (in inches and points), so a figure's layout does not change.
FIGURE_RC = {"figure.dpi": 150}


def print_setup(seed: int = 0) -> torch.device:
    """Seed everything, set :data:`FIGURE_RC`, print :func:`describe`'s line, return the device."""
    seed_everything(seed)
    import matplotlib  # here, so that code which never plots does not import it

    matplotlib.rcParams.update(FIGURE_RC)
    print(describe())
    return get_device()
