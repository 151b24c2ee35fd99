"""tools/bench_explorer.py writes its own section of BENCHMARKS.md and nothing else."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import bench_explorer  # noqa: E402

ROW = {"page": "chapters/07.html", "src": "_explorer/a.safetensors", "title": "2-D VAE",
       "dtype": "float16", "params": 315584, "bytes": 637104, "explorer_bytes": 637104,
       "ms": 0.41, "update_ms": 0.93, "profile": "smoke"}


def test_the_section_names_the_profile_and_lists_every_decoder_with_its_numbers():
    text = bench_explorer.section([ROW, {**ROW, "src": "_explorer/b.safetensors"}], 400,
                                  "156.0", "cpu", "python tools/bench_explorer.py",
                                  ((1.0, 1.0, 1.0), (2.0, 2.0, 2.0)), rounds=3)
    assert text.startswith(bench_explorer.START) and text.endswith(bench_explorer.END)
    assert "`smoke` profile" in text and "Chromium 156.0" in text and "2.00 / 2.00" in text
    assert "| 637,104 | 637,104 | 0.410 | 0.930 |" in text
    assert text.count("_explorer/") == 2


def test_write_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nother numbers\n")
    first = bench_explorer.section([ROW], 10, "1", "cpu", "cmd")
    bench_explorer.write_section(path, first)
    second = bench_explorer.section([{**ROW, "ms": 9.99}], 10, "1", "cpu", "cmd")
    bench_explorer.write_section(path, second)
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nother numbers\n")
    assert text.count(bench_explorer.START) == 1 and "9.990" in text and "0.410" not in text


def test_write_section_refuses_a_file_with_half_a_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(f"# Benchmarks\n{bench_explorer.START}\nleft over\n")
    with pytest.raises(ValueError, match="only one of"):
        bench_explorer.write_section(path, bench_explorer.section([ROW], 10, "1", "cpu", "c"))
