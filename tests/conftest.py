"""Test-wide settings: offline, smoke profile, one thread, no progress bars.

Notebook kernels started by nbval inherit this environment. MPLBACKEND is deliberately
not set: kernels must keep matplotlib's inline backend (as for a learner); unit tests that
draw use the Agg backend themselves (matplotlib picks Agg when no display is present).
"""
import os

os.environ.setdefault("COURSE_PROFILE", "smoke")
os.environ["COURSE_DOWNLOAD"] = "0"  # tests never touch the network
os.environ.setdefault("COURSE_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
