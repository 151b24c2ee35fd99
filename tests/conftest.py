"""Test-wide settings: offline, smoke profile, one thread, no progress bars."""
import os

os.environ.setdefault("COURSE_PROFILE", "smoke")
os.environ["COURSE_DOWNLOAD"] = "0"  # tests never touch the network
os.environ.setdefault("COURSE_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
