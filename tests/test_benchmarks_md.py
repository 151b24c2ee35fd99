"""tools/benchmarks_md.py: one script's section of BENCHMARKS.md, the rest untouched."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import benchmarks_md  # noqa: E402

A = "<!-- a:start -->\nfirst\n<!-- a:end -->"


def test_appends_then_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nother\n")
    benchmarks_md.write_section(path, A)
    benchmarks_md.write_section(path, A.replace("first", "second"))
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nother\n")
    assert text.count("<!-- a:start -->") == 1 and "second" in text and "first" not in text


def test_a_missing_file_starts_with_a_title(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    benchmarks_md.write_section(path, A)
    assert path.read_text() == "# Benchmarks\n\n" + A + "\n"


def test_half_a_section_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n<!-- a:start -->\nleft over\n")
    with pytest.raises(ValueError, match="only one of"):
        benchmarks_md.write_section(path, A)
    assert "left over" in path.read_text()
