"""tools/bench.py: the DataLoader-vs-course benchmark runs and reports what it measured.

The tests that run the real command line (a subprocess training two models) are marked
``slow``; the rest check the report writers and argument checks in-process.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_utils import data, runtime

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import bench  # noqa: E402

NUMBER = r"(\d+\.\d+)"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One tiny run of the real command line, on both data sets, with a Markdown fragment."""
    out = tmp_path_factory.mktemp("bench") / "fragment.md"
    env = dict(os.environ, COURSE_THREADS="1", TQDM_DISABLE="1", COURSE_DOWNLOAD="0")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench.py"), "--dataset", "both", "--limit", "600",
         "--epochs", "1", "--markdown", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, out.read_text()


def _table_rows(stdout: str, name: str) -> list:
    section = stdout.split("\nResults", 1)[1].split(f"\n{name}:\n", 1)[1]
    pattern = rf"^  (\(\w\) [^\n]*?)\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}x$"
    rows = []
    for line in section.splitlines()[1:]:
        m = re.match(pattern, line)
        if not m:
            break
        rows.append((m.group(1).strip(), int(m.group(2)), *map(float, m.groups()[2:])))
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Fashion-MNIST", "MNIST"])
def test_bench_reports_both_paths_with_seconds_loss_and_ratio(report, name):
    stdout, _ = report
    rows = _table_rows(stdout, name)
    assert [r[0] for r in rows] == ["(a) DataLoader", "(b) course fit"]
    (_, batch_a, sec_a, loss_a, ratio_a), (_, batch_b, sec_b, loss_b, ratio_b) = rows
    assert batch_a == batch_b == 128
    assert sec_a > 0 and sec_b > 0 and ratio_a == 1.0
    # The ratio is computed from unrounded seconds; allow for the printed rounding (0.005).
    assert (sec_a - 0.005) / (sec_b + 0.005) - 0.005 <= ratio_b
    assert ratio_b <= (sec_a + 0.005) / max(sec_b - 0.005, 1e-9) + 0.005
    # After one epoch on 600 images both models are far from trained, but finite and on the
    # same scale: same recipe, same data, same initial weights.
    assert 100 < loss_a < 800 and 100 < loss_b < 800 and abs(loss_a - loss_b) < 50


@pytest.mark.slow
def test_bench_names_data_source_machine_and_units(report):
    stdout, _ = report
    assert "machine: " in stdout and "CPU threads" in stdout and "load average" in stdout
    assert "logical cores" in stdout  # runtime.describe()'s machine line
    assert re.search(r"Fashion-MNIST: 600 train / 600 test images from \S", stdout)
    assert re.search(r"MNIST: 600 train / 600 test images from \S", stdout)
    assert "torchvision.datasets.FashionMNIST" in stdout and "torchvision.datasets.MNIST" in stdout
    assert "s/epoch" in stdout and "nats/image" in stdout


@pytest.mark.slow
def test_bench_markdown_fragment_is_printed_and_written_with_one_row_per_path(report):
    stdout, fragment = report
    assert fragment in stdout
    assert "`python tools/bench.py --dataset both --limit 600 --epochs 1" in fragment
    table = [line for line in fragment.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| data set | path | batch | s/epoch | test loss (nats/image")
    body = table[1:]
    assert len(body) == 4
    assert [line.split(" | ")[1] for line in body] == ["(a) DataLoader", "(b) course fit"] * 2
    for line in body:
        cells = line.strip("| ").split(" | ")
        float(cells[3]), float(cells[4]), float(cells[5].rstrip("x"))
        assert float(cells[6]) > 0 and float(cells[7].rstrip("x")) > 0  # CPU time, measured


def test_bench_is_developer_tooling_not_part_of_the_package():
    assert importlib.util.find_spec("course_utils.bench") is None
    assert Path(bench.__file__).resolve() == ROOT / "tools" / "bench.py"


def test_bench_markdown_names_the_machine_with_runtime_describe(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    split = data.Split(torch.zeros(3, 1, 28, 28), torch.tensor([0, 1, 2]))
    ds = data.Dataset("MNIST", "a test", split, split, data.MNIST_CLASSES)
    rows = [bench.Row("(a) DataLoader", 128, [2.0, 4.0], 150.0, 160.0),
            bench.Row("(b) course fit", 128, [1.0, 2.0], 151.0, 161.0)]
    fragment = bench.markdown([{"dataset": ds, "rows": rows}], epochs=2, command="python x",
                              device=torch.device("cpu"), load_before="b", load_after="a")
    assert f"- Machine: {runtime.describe('cpu')}." in fragment.splitlines()
    assert "| MNIST | (a) DataLoader | 128 | 3.00 | 150.00 | 1.00x | – | – |" in fragment
    assert "| MNIST | (b) course fit | 128 | 1.50 | 151.00 | 2.00x | – | – |" in fragment


def test_bench_markdown_gives_cpu_time_and_says_when_the_machine_was_loaded():
    split = data.Split(torch.zeros(3, 1, 28, 28), torch.tensor([0, 1, 2]))
    ds = data.Dataset("MNIST", "a test", split, split, data.MNIST_CLASSES)
    rows = [bench.Row("(a) DataLoader", 128, [2.0, 4.0], 150.0, 160.0, [1.0, 3.0]),
            bench.Row("(b) course fit", 128, [1.0, 2.0], 151.0, 161.0, [0.5, 0.5])]
    loaded = "load average 99.00 / 1.00 / 1.00 (1/5/15 min)"
    quiet = "load average 0.10 / 0.10 / 0.10 (1/5/15 min)"
    fragment = bench.markdown([{"dataset": ds, "rows": rows}], epochs=2, command="python x",
                              device=torch.device("cpu"), load_before=loaded, load_after=quiet)
    assert "| MNIST | (b) course fit | 128 | 1.50 | 151.00 | 2.00x | 0.50 | 4.00x |" in fragment
    assert "The machine was loaded (1-minute load 99.0" in fragment
    fragment = bench.markdown([{"dataset": ds, "rows": rows}], epochs=2, command="python x",
                              device=torch.device("cpu"), load_before=quiet, load_after=quiet)
    assert "The machine was loaded" not in fragment
    assert "CPU time per epoch (process): (a) 2.00 s, (b) 0.50 s: ratio 4.00x" in \
        bench.text_table({"rows": rows})


def test_update_results_replaces_only_the_marked_section(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"# Title\n\nmethod\n\n{bench.RESULTS_START}\nold numbers\n"
                   f"{bench.RESULTS_END}\n\nafter\n")
    bench.update_results(doc, "| new | table |\n")
    text = doc.read_text()
    assert "old numbers" not in text and "| new | table |" in text
    assert text.startswith("# Title\n\nmethod\n\n") and text.endswith("\n\nafter\n")
    bench.update_results(doc, "second\n")
    assert "| new | table |" not in doc.read_text() and doc.read_text().count("second") == 1


def test_update_results_refuses_a_file_without_markers(tmp_path):
    doc = tmp_path / "other.md"
    doc.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="results section"):
        bench.update_results(doc, "x\n")


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--limit", "-5"], ["--dataset", "cifar"]])
def test_bench_rejects_bad_arguments(args, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(args)
    assert "error" in capsys.readouterr().err


def test_torchvision_dataset_holds_the_same_images_as_the_tensors(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (5, 1, 28, 28), generator=g).float() / 255
    split = data.Split(x, torch.arange(5))
    ds, what = bench._torchvision_dataset("MNIST", split, True, tmp_path)
    assert len(ds) == 5 and "MNIST" in what
    image, label = ds[3]
    assert torch.allclose(image, x[3], atol=1e-6) and label == 3


def test_torchvision_dataset_refuses_files_that_differ_from_the_tensors(tmp_path):
    """The check that both paths see the same data can fail: files of another data set."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = torch.zeros(3, 28, 28, dtype=torch.uint8)
    header = lambda magic, *dims: b"".join(v.to_bytes(4, "big") for v in (magic, *dims))
    for prefix in ("train", "t10k"):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header(2051, 3, 28, 28) + images.numpy().tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(header(2049, 3) + bytes([0, 1, 2]))
    split = data.Split(torch.ones(3, 1, 28, 28), torch.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="differs from the tensors"):
        bench._torchvision_dataset("MNIST", split, True, tmp_path)
