"""tools/book_times.py: reads myst-nb's per-notebook times and owns one section of BENCHMARKS.md."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import book_times  # noqa: E402

LOG = (f"\x1b[01mreading sources... \x1b[39;49;00m[ 15%] chapters/02_elbo\n"
       f"{ROOT}/chapters/01_autoencoders.ipynb: Executed notebook in 12.98 seconds [mystnb]\n"
       f"{ROOT}/chapters/02_elbo.ipynb: Executing notebook using local CWD [mystnb]\n"
       f"{ROOT}/chapters/02_elbo.ipynb: Executed notebook in 291.5 seconds [mystnb]\n")


def test_notebook_times_reads_each_executed_notebook_relative_to_the_book():
    assert book_times.notebook_times(LOG) == {"chapters/01_autoencoders.ipynb": 12.98,
                                              "chapters/02_elbo.ipynb": 291.5}


def test_notebook_times_ignores_a_log_without_executions():
    assert book_times.notebook_times("build succeeded.\n") == {}


def _section(total=630.0):
    times = book_times.notebook_times(LOG)
    return book_times.section(total, times, "standard", "device: cpu", (1.0, 0.5, 0.2),
                              (1.5, 0.9, 0.3), "python tools/book_times.py")


def test_section_states_total_per_notebook_profile_machine_and_load():
    text = _section()
    assert "Total: 630 s (10.5 min)" in text and "COURSE_PROFILE=standard" in text
    assert "| `chapters/02_elbo.ipynb` | 291.5 | yes |" in text and "Under 5 min" in text
    assert "device: cpu" in text and "before: 1.00 / 0.50 / 0.20" in text
    times = book_times.notebook_times(LOG)
    assert "every chapter, 2 at a time" in book_times.section(
        630.0, times, "standard", "m", (0, 0, 0), (0, 0, 0), "c", jobs=2)
    start, end = book_times.markers("standard")
    assert text.startswith(start) and text.endswith(end)


def test_section_flags_a_notebook_over_five_minutes():
    times = {"chapters/06_conv_vae.ipynb": 301.0}
    text = book_times.section(400, times, "standard", "m", (0, 0, 0), (0, 0, 0), "c")
    assert "| `chapters/06_conv_vae.ipynb` | 301.0 | NO |" in text


def test_smoke_section_holds_each_notebook_to_a_minute():
    times = {"chapters/07_latent_space.ipynb": 61.0, "chapters/02_elbo.ipynb": 59.0}
    text = book_times.section(120, times, "smoke", "m", (0, 0, 0), (0, 0, 0), "c")
    assert "Under 60 s" in text and "(`smoke` profile)" in text
    assert "| `chapters/07_latent_space.ipynb` | 61.0 | NO |" in text
    assert "| `chapters/02_elbo.ipynb` | 59.0 | yes |" in text


def test_markers_reject_an_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile 'quick'"):
        book_times.markers("quick")


def test_write_section_appends_once_then_replaces_only_its_own_section(tmp_path):
    bench = tmp_path / "BENCHMARKS.md"
    bench.write_text("# Benchmarks\n\nSomeone else's table.\n")
    book_times.write_section(bench, _section(600))
    book_times.write_section(bench, _section(480))
    text = bench.read_text()
    assert text.startswith("# Benchmarks\n\nSomeone else's table.\n")
    assert text.count(book_times.markers("standard")[0]) == 1 and "Total: 480 s" in text
    assert "Total: 600 s" not in text


def test_each_profile_keeps_its_own_section(tmp_path):
    bench = tmp_path / "BENCHMARKS.md"
    smoke = book_times.section(90, {"chapters/01_autoencoders.ipynb": 9.5}, "smoke", "m",
                               (0, 0, 0), (0, 0, 0), "c")
    book_times.write_section(bench, _section(600))
    book_times.write_section(bench, smoke)
    book_times.write_section(bench, _section(480))
    text = bench.read_text()
    assert "Total: 90 s" in text and "Total: 480 s" in text and "Total: 600 s" not in text
    assert text.index(book_times.markers("standard")[0]) < text.index(book_times.markers("smoke")[0])


def test_write_section_refuses_a_file_with_one_marker(tmp_path):
    bench = tmp_path / "BENCHMARKS.md"
    bench.write_text(f"# Benchmarks\n{book_times.markers('standard')[0]}\nhalf a section\n")
    with pytest.raises(ValueError, match="only one of"):
        book_times.write_section(bench, _section())
    assert "half a section" in bench.read_text()


def test_write_section_refuses_text_that_is_not_a_section(tmp_path):
    with pytest.raises(ValueError, match="not a book-times section"):
        book_times.write_section(tmp_path / "BENCHMARKS.md", "| a table |")


def test_the_next_run_shows_the_previous_one_beside_it_per_notebook(tmp_path):
    bench = tmp_path / "BENCHMARKS.md"
    assert book_times.previous(bench, "standard") is None
    book_times.write_section(bench, _section(630))
    before = book_times.previous(bench, "standard")
    assert before["total"] == 630 and before["machine"] == "device: cpu"
    assert before["times"] == {p: round(s, 1) for p, s in book_times.notebook_times(LOG).items()}
    faster = {path: seconds / 2 for path, seconds in before["times"].items()}
    faster["chapters/99_new.ipynb"] = 1.0
    text = book_times.section(315, faster, "standard", "device: cpu", (0, 0, 0), (0, 0, 0),
                              "c", before=before)
    assert "total 630 s; this run -315 s" in text and "the same machine description" in text
    assert "| `chapters/02_elbo.ipynb` | 145.8 | 291.5 | -50% | yes |" in text
    assert "| `chapters/99_new.ipynb` | 1.0 | – | new | yes |" in text
    other = book_times.section(315, faster, "standard", "device: cuda", (0, 0, 0), (0, 0, 0),
                               "c", before=before)
    assert "another machine (`device: cpu`): not a like-for-like comparison" in other
    assert book_times.previous(bench, "smoke") is None
