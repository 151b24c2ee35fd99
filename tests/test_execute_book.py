"""tools/execute_book.py: `make book` executes the chapters side by side, then builds."""
import os
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import execute_book  # noqa: E402


def test_it_executes_the_chapters_the_book_executes_and_never_the_exercises():
    found = [p.relative_to(ROOT).as_posix() for p in execute_book.book_notebooks(ROOT)]
    chapters = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("*.ipynb"))
    assert sorted(found) == chapters and len(found) == 11
    assert not any(p.startswith("exercises/") for p in found)


@pytest.mark.parametrize("env, jobs, cores, want", [
    ("3", 2, 8, 3),       # COURSE_THREADS is every kernel's count
    (None, 2, 8, 4), (None, 2, 2, 1), (None, 4, 2, 1), (None, 1, 2, 2)])
def test_each_kernel_gets_course_threads_or_its_share_of_the_cores(monkeypatch, env, jobs, cores, want):
    if env is None:
        monkeypatch.delenv("COURSE_THREADS", raising=False)
    else:
        monkeypatch.setenv("COURSE_THREADS", env)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert execute_book.kernel_threads(jobs) == want


@pytest.mark.parametrize("value", ["0", "two", "", "-1", "1.5"])
def test_a_bad_course_threads_is_refused_with_what_to_pass(monkeypatch, value):
    monkeypatch.setenv("COURSE_THREADS", value)
    with pytest.raises(ValueError, match=f"COURSE_THREADS must be a positive integer, got {value!r}"):
        execute_book.kernel_threads(2)


def test_the_build_config_reads_the_cache_and_finds_the_extensions_from_build(tmp_path):
    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    path = execute_book.write_config(tmp_path)
    assert path == tmp_path / "_build" / "_config_executed.yml"
    written, original = yaml.safe_load(path.read_text()), yaml.safe_load((ROOT / "_config.yml").read_text())
    assert written["execute"]["execute_notebooks"] == "cache"
    assert written["execute"]["cache"] == str(tmp_path / "_build" / ".jupyter_cache")
    local = written["sphinx"]["local_extensions"]
    assert local and all(Path(folder) == (tmp_path / original["sphinx"]["local_extensions"][name])
                         for name, folder in local.items())
    # everything else is the book's own configuration
    for key in ("execute", "sphinx"):
        written.pop(key), original.pop(key)
    assert written == original


def test_a_bad_job_count_is_refused(tmp_path):
    with pytest.raises(ValueError, match="jobs must be a positive integer, got 0"):
        execute_book.execute_book(ROOT, 0)


def _waiting_notebook(path: Path, mine: str, other: str):
    """A notebook that writes its flag file, then waits for the other notebook's (60 s)."""
    code = (f"import pathlib, time\npathlib.Path({mine!r}).write_text('here')\n"
            f"for _ in range(600):\n    if pathlib.Path({other!r}).exists(): break\n"
            f"    time.sleep(0.1)\nelse:\n    raise RuntimeError('the other notebook never ran')\n"
            "print('met')")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)


@pytest.mark.slow
def test_two_jobs_run_two_notebooks_at_the_same_time_and_cache_both(tmp_path):
    """Each notebook waits for the other's flag: both finish only if they run side by side."""
    (tmp_path / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: force\n"
                                          "  timeout: 120\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                       "  - file: a\n  - file: b\n")
    (tmp_path / "intro.md").write_text("# t\n")
    _waiting_notebook(tmp_path / "a.ipynb", str(tmp_path / "a.flag"), str(tmp_path / "b.flag"))
    _waiting_notebook(tmp_path / "b.ipynb", str(tmp_path / "b.flag"), str(tmp_path / "a.flag"))
    assert execute_book.execute_book(tmp_path, jobs=2) == 0
    seconds = execute_book.previous_seconds(tmp_path / execute_book.CACHE)
    assert sorted(seconds) == [str(tmp_path / "a.ipynb"), str(tmp_path / "b.ipynb")]
    assert all(s > 0 for s in seconds.values())
    from jupyter_cache import get_cache
    cache = get_cache(str(tmp_path / execute_book.CACHE))
    for name in ("a", "b"):
        record = cache.match_cache_notebook(nbformat.read(tmp_path / f"{name}.ipynb", as_version=4))
        outputs = cache.get_cache_bundle(record.pk).nb.cells[0].outputs
        assert "met" in outputs[0]["text"]
