"""tools/profile_epoch.py, tools/bench_scaling.py and tools/bench_gpu.py, on tiny inputs.

The measurements themselves run on full data sets (and bench_gpu on a GPU); here the parts
that do not need either are checked: the phase clock, the fits and the bends found from
measured rows, chapter 10's nearest-code search, the report writers, and bench_gpu's refusal
on a machine without CUDA.
"""
import re
import sys
import time
from pathlib import Path

import pytest
import torch

from course_utils import data, losses, train
from course_utils.data import Split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import bench_gpu  # noqa: E402
import bench_scaling  # noqa: E402
import profile_epoch  # noqa: E402


@pytest.fixture
def tiny():
    gen = torch.Generator().manual_seed(0)
    return Split(torch.rand(96, 1, 28, 28, generator=gen), torch.zeros(96, dtype=torch.int64))


# --- profile_epoch ------------------------------------------------------------------------------

@pytest.mark.parametrize("timer", [time.perf_counter, time.process_time])
def test_phase_clock_splits_one_epoch_and_leaves_nothing_patched(tiny, timer):
    model, opt = profile_epoch.fresh()
    batches, backward = train.batches, torch.Tensor.backward
    clock = profile_epoch.PhaseClock(timer)
    total = clock.epoch(model, losses.vae_loss, tiny, opt, batch_size=32,
                        generator=torch.Generator().manual_seed(0))
    assert set(clock.seconds) == set(profile_epoch.PHASES)
    assert sum(clock.seconds.values()) == pytest.approx(total)
    for phase in ("batch slicing", "model forward", "loss (beyond the forward)", "backward",
                  "optimiser (zero_grad + step)"):
        assert 0 < clock.seconds[phase] < total, phase
    assert train.batches is batches and torch.Tensor.backward is backward
    assert "zero_grad" not in vars(opt)  # the instance wrapper is gone again
    assert opt.state  # the optimiser really stepped


def test_profile_markdown_lists_phases_ops_and_says_when_the_machine_was_loaded():
    r = {"machine": "device: cpu | test", "code": "course_utils at commit abc1234",
         "load_before": "99.00 / 1.00 / 1.00",
         "load_after": "0.10 / 0.10 / 0.10", "data": "Fashion-MNIST: 10 images",
         "batch_size": 128, "steps": 4, "threads": 2, "epoch_s": 2.0,
         "phases": dict.fromkeys(profile_epoch.PHASES, 2.0 / 6),
         "ops": [("aten::mm", 1.0, 0.5, 9.0, 27.8)], "ops_total": 2.0,
         "threads_s": {1: 3.0, 2: 2.0}, "load_threads": "1 / 1 / 1", "bf16": None}
    text = profile_epoch.markdown(r, "python tools/profile_epoch.py")
    assert "| `aten::mm` | 1.00 | 50.0 % | 9.0 | 27.8 |" in text
    assert text.count("| ") >= 8 and "1 thread(s) 3.00 s/epoch" in text
    assert "loaded by other work" in text and "neither AVX512-BF16 nor AMX" in text
    assert "- Code: course_utils at commit abc1234." in text
    r["load_before"] = "0.10 / 0.10 / 0.10"
    assert "loaded by other work" not in profile_epoch.markdown(r, "x")


def test_compile_verdict_computes_the_break_even_epoch():
    pays = {"startup_s": 30.0, "saving_s": 0.5, "break_even": 60.0, "run_epochs": 10}
    assert "after 60 epochs; not within a 10-epoch run" in profile_epoch.compile_verdict(pays)
    pays["run_epochs"] = 100
    assert "after 60 epochs; within a 100-epoch run" in profile_epoch.compile_verdict(pays)
    never = {"startup_s": 30.0, "saving_s": -0.1, "break_even": None}
    assert "never pays" in profile_epoch.compile_verdict(never)


def test_update_section_replaces_only_its_own_section_and_refuses_without_markers(tmp_path):
    doc = tmp_path / "B.md"
    doc.write_text(f"top\n{profile_epoch.START}\nold\n{profile_epoch.END}\nbottom\n")
    profile_epoch.update_section(doc, "new\n")
    assert doc.read_text() == f"top\n{profile_epoch.START}\nnew\n{profile_epoch.END}\nbottom\n"
    with pytest.raises(SystemExit, match="no section"):
        profile_epoch.update_section(doc, "x\n", "<!-- a -->", "<!-- b -->")


@pytest.mark.parametrize("args", [["--threads", "0"], ["--rows", "-1"], ["--limit", "0"],
                                  ["--compile-rounds", "1"]])
def test_profile_rejects_bad_arguments(args, capsys):
    with pytest.raises(SystemExit):
        profile_epoch.parse_args(args)
    assert "must be a" in capsys.readouterr().err


# --- bench_scaling ------------------------------------------------------------------------------

def test_nearest_codes_match_the_brute_force_distances():
    gen = torch.Generator().manual_seed(1)
    z, codebook = torch.randn(300, 8, generator=gen), torch.randn(32, 8, generator=gen)
    assert torch.equal(bench_scaling.nearest_codes(z, codebook),
                       torch.cdist(z, codebook).argmin(1))


def _batch_rows(work, per_step, n=60_000, sizes=(64, 128, 256, 512, 1024)):
    rows = []
    for b in sizes:
        steps = -(-n // b)
        s = work + steps * per_step
        rows.append({"batch": b, "steps": steps, "s_per_epoch": s, "wall_s": s, "cpu_s": s,
                     "images_per_s": n / s})
    return rows


def test_batch_bend_recovers_the_work_and_the_cost_per_step():
    rows = _batch_rows(1.5, 0.002)
    work, per_step = bench_scaling.fit_work_and_step(rows)
    assert work == pytest.approx(1.5) and per_step == pytest.approx(0.002)
    sentence = bench_scaling.batch_bend(rows)
    # where the parts are equal: 60,000 * 0.002 / 1.5 = 80
    assert "near batch 80," in sentence and "1.50 s +" in sentence and "2.00 ms" in sentence


def test_batch_bend_names_no_bend_when_the_fit_fails():
    rows = _batch_rows(1.0, 0.001)
    rows[0]["s_per_epoch"], rows[-1]["s_per_epoch"] = 0.5, 5.0  # grows with the batch
    assert "no bend is named" in bench_scaling.batch_bend(rows)


def _code_rows(ms_by_k, mb=lambda k: 6272 * k * 4 / 2**20):
    return [{"K": k, "ms": ms, "argmin_ms": ms / 5, "scores_mb": mb(k),
             "gflops": 2 * 6272 * k * 64 / (ms / 1e3) / 1e9} for k, ms in ms_by_k]


def test_codebook_bend_finds_where_the_time_starts_to_grow_with_k():
    flat_then_linear = _code_rows([(64, 1.0), (128, 1.1), (256, 1.3), (512, 2.6), (1024, 5.2)])
    text = bench_scaling.codebook_bend(flat_then_linear)
    assert text.startswith("Up to K = 256 the time grows slower than K")
    assert "from K = 256 on it grows about 2.00x per doubling" in text
    linear = _code_rows([(64, 1.0), (128, 2.0), (256, 4.0)])
    assert bench_scaling.codebook_bend(linear).startswith("From K = 64 on")
    flat = _code_rows([(64, 1.0), (128, 1.1), (256, 1.2)])
    assert bench_scaling.codebook_bend(flat).startswith("No doubling of K")


def test_codebook_bend_names_the_cache_only_when_the_slowdown_starts_there(monkeypatch):
    monkeypatch.setattr(bench_scaling, "l3_cache_mb", lambda: 32.0)
    rows = _code_rows([(256, 4.0), (512, 8.0), (1024, 16.0), (2048, 48.0), (4096, 96.0)])
    assert "no longer fits the 32 MB L3 cache" in bench_scaling.codebook_bend(rows)
    early = _code_rows([(256, 4.0), (512, 12.0), (1024, 24.0), (2048, 48.0), (4096, 96.0)])
    text = bench_scaling.codebook_bend(early)
    assert "bends down after K = 256" in text and "cache" not in text


def test_scaling_tables_run_on_tiny_inputs(tiny):
    rows = bench_scaling.batch_table(tiny, (16, 32), repeats=1)
    assert [r["batch"] for r in rows] == [16, 32] and [r["steps"] for r in rows] == [6, 3]
    assert all(r["wall_s"] > 0 and r["cpu_s"] > 0 for r in rows)
    codes = bench_scaling.codebook_table((8, 16), tokens=64, dim=4, repeats=1, number=1)
    assert [r["K"] for r in codes] == [8, 16]
    assert all(r["ms"] > 0 and r["argmin_ms"] > 0 for r in codes)
    assert codes[1]["scores_mb"] == pytest.approx(64 * 16 * 4 / 2**20)


def test_scaling_markdown_has_both_tables_and_their_sentences():
    r = {"machine": "m", "load_before": "0.1 / 0.1 / 0.1", "load_after": "0.1 / 0.1 / 0.1",
         "repeats": 2, "vq_repeats": 5, "clock": "cpu", "data": "Fashion-MNIST, 60,000",
         "batch": _batch_rows(1.5, 0.002),
         "codebook": _code_rows([(64, 1.0), (128, 2.0), (256, 4.0)])}
    text = bench_scaling.markdown(r, "python tools/bench_scaling.py")
    assert "| 64 | 938 | 3.38 | 3.38 |" in text and "| 256 | 4.00 |" in text
    assert "CPU time of the process" in text
    assert "near batch 80," in text and "From K = 64 on" in text


@pytest.mark.parametrize("args", [["--batch-sizes", "128"], ["--codebook-sizes", "512", "64"],
                                  ["--repeats", "0"]])
def test_scaling_rejects_bad_arguments(args, capsys):
    with pytest.raises(SystemExit):
        bench_scaling.parse_args(args)
    assert "error" in capsys.readouterr().err


# --- bench_gpu ----------------------------------------------------------------------------------

def test_bench_gpu_stops_with_a_message_and_writes_nothing_without_cuda(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"{bench_gpu.START}\nno run yet\n{bench_gpu.END}\n")
    before = doc.read_text()
    with pytest.raises(SystemExit) as err:
        bench_gpu.main(["--update", str(doc)])
    assert "no CUDA GPU" in str(err.value) and "Nothing was measured" in str(err.value)
    assert doc.read_text() == before


def test_bench_gpu_mlp_measurement_runs_on_cpu_at_tiny_size(tiny):
    rows = bench_gpu.measure_mlp(tiny, tiny.head(32), torch.device("cpu"), epochs=2,
                                 batch_size=32, variants=(("float32", False, False),))
    (row,) = rows
    assert row["name"] == "float32" and row["first_s"] > 0 and row["steady_s"] > 0
    assert 100 < row["test_loss"] < 1000  # untrained-ish VAE on uniform noise, nats/image


def _gpu_rows(bf16_s=0.2, fp32_s=0.3, compiled=(20.15, 0.15), gap=0.1):
    return [{"name": "bf16", "amp": True, "compiled": False, "first_s": 1.0, "steady_s": bf16_s,
             "test_loss": 250 + gap},
            {"name": "fp32", "amp": False, "compiled": False, "first_s": 1.0,
             "steady_s": fp32_s, "test_loss": 250.0},
            {"name": "compiled", "amp": True, "compiled": True, "first_s": compiled[0],
             "steady_s": compiled[1], "test_loss": 250.1}]


def test_bench_gpu_verdicts_follow_the_numbers():
    helps, pays = bench_gpu.verdicts(_gpu_rows())
    assert "it helps and stays within the bound" in helps
    assert "pays for itself after 400 epochs" in pays  # (20.15 - 0.15) / (0.2 - 0.15)
    too_lossy, never = bench_gpu.verdicts(_gpu_rows(gap=0.8, compiled=(20.0, 0.25)))
    assert "does not pay here" in too_lossy and "it does not pay" in never


def test_bench_gpu_markdown_checks_the_targets_and_notes_the_stand_in():
    r = {"machine": "device: cuda (X)", "load_before": "1 / 1 / 1", "load_after": "1 / 1 / 1",
         "epochs": 3, "mlp_data": "Fashion-MNIST, 60,000 training images", "mlp": _gpu_rows(),
         "faces": {"data": "LFW stand-in: ... (CelebA not found)", "images": 32768, "epochs": 3,
                   "batch_size": 128, "images_per_s": 2000.0, "celeba_epoch_s": 81.385}}
    text = bench_gpu.markdown(r, "python tools/bench_gpu.py")
    assert "MLP epoch, bf16: 0.200 s, target under 0.3 s: met" in text
    assert "81.385 s, target under 60 s: missed" in text
    assert "LFW stand-in, with the same 64×64×3 pixels" in text


def test_make_bench_gpu_runs_the_script_into_benchmarks_md():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench-gpu:.*\n\t(.*)$", makefile, re.M)
    assert recipe and recipe.group(1) == "$(PY) tools/bench_gpu.py --update BENCHMARKS.md"


def test_benchmarks_md_sections_hold_only_script_written_numbers():
    """Each script's section exists; the GPU one holds no digit until the script writes it."""
    text = (ROOT / "BENCHMARKS.md").read_text()
    for start, end in ((profile_epoch.START, profile_epoch.END),
                       (bench_scaling.START, bench_scaling.END),
                       (bench_gpu.START, bench_gpu.END)):
        assert text.count(start) == 1 and text.count(end) == 1
        section = text.split(start, 1)[1].split(end, 1)[0]
        if not section.lstrip().startswith("Measured "):
            assert not re.search(r"\d", section), f"typed numbers in {start}: {section!r}"
