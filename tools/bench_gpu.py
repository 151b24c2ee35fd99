"""Benchmark: the ``full`` profile's training on a CUDA GPU, written into BENCHMARKS.md.

Developer tooling, not part of the ``course_utils`` package. One command
(``make bench-gpu`` = ``python tools/bench_gpu.py --update BENCHMARKS.md``) measures, on the
GPU, the code the book runs there (:func:`course_utils.train.fit`: the whole split on the
device, batches sliced there, bfloat16 autocast by default, fit's default fused Adam):

1. **MLP VAE epoch**: the 784-400-20 :class:`~course_utils.models.MLPVAE` with
   :func:`~course_utils.losses.vae_loss` on full Fashion-MNIST (60,000 images: the size of
   MNIST's training split), batch 128, three ways: bfloat16 autocast (fit's default on
   CUDA), float32, and bfloat16 with ``torch.compile(model)``. For each: the first epoch
   (start-up included), the best later epoch, and the test loss after the same epochs, so
   that bfloat16 is kept only if it stays within 0.5 nat/image of float32 and compiling only
   if its start-up pays for itself within the run.
2. **Chapter 08's conv VAE epoch**: the chapter's own ``FaceVAE`` and ``face_loss`` (read
   from the notebook by ``tools/bench_faces.py``) on CelebA 64x64 when it is present, else
   the LFW stand-in; reported as the seconds of a CelebA-size epoch (162,770 images).

The targets of issue 22 are checked and printed beside the numbers: MLP epoch under 0.3 s,
CelebA-64 conv VAE epoch under 60 s. Without a CUDA GPU the command stops with a message
and writes nothing; ``--update`` replaces only the text between the ``bench-gpu`` markers.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import shlex
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's course_utils
sys.path.insert(0, str(ROOT / "tools"))
from course_utils import data, losses, models, train  # noqa: E402
from course_utils.runtime import describe, seed_everything  # noqa: E402
from profile_epoch import load_average, update_section  # noqa: E402

COMMAND = "python tools/bench_gpu.py"
START, END = "<!-- bench-gpu:start -->", "<!-- bench-gpu:end -->"
MLP_TARGET_S, FACES_TARGET_S, LOSS_BOUND = 0.3, 60.0, 0.5
VARIANTS = (("bfloat16 autocast (fit's default on CUDA)", True, False),
            ("float32", False, False),
            ("bfloat16 autocast + torch.compile(model)", True, True))


def require_cuda() -> torch.device:
    """The CUDA device, or ``SystemExit`` with a message saying why nothing was measured."""
    if not torch.cuda.is_available():
        built = torch.version.cuda or "none (a CPU-only build)"
        raise SystemExit(
            f"bench_gpu: no CUDA GPU on this machine (torch.cuda.is_available() is False; "
            f"torch {torch.__version__}, CUDA build: {built}). This benchmark measures the "
            "book's `full` profile on an NVIDIA GPU: run `make bench-gpu` on a machine with "
            "one. Nothing was measured and BENCHMARKS.md was not changed. (On a CPU, "
            "`make bench`, tools/profile_epoch.py and tools/bench_scaling.py measure the CPU "
            "path.)")
    return torch.device("cuda")


def measure_mlp(train_split, test_split, device, *, epochs: int = 3, batch_size: int = 128,
                variants=VARIANTS, seed: int = 0) -> list:
    """One row per variant: ``{name, amp, compiled, first_s, steady_s, test_loss}``.

    Each variant trains the same initial model with :func:`train.fit` for ``epochs`` epochs
    (``first_s``: the first epoch, start-up included; ``steady_s``: the best later epoch, or
    the first when ``epochs`` is 1) and is then evaluated on ``test_split`` with the same z
    draws (``torch.manual_seed(seed)``), in float32.
    """
    rows = []
    for name, amp, compiled in variants:
        seed_everything(seed, threads=torch.get_num_threads())
        model = models.MLPVAE(latent_dim=20, hidden_dim=400).to(device)
        runner = torch.compile(model) if compiled else model
        with contextlib.redirect_stdout(io.StringIO()):
            history = train.fit(runner, losses.vae_loss, train_split, epochs=epochs,
                                batch_size=batch_size, device=device, amp=amp, seed=seed,
                                desc=name)
        torch.manual_seed(seed)
        test = train.evaluate(model, losses.vae_loss, test_split.to(device))["loss"]
        later = history.seconds[1:] or history.seconds
        rows.append({"name": name, "amp": amp, "compiled": compiled,
                     "first_s": history.seconds[0], "steady_s": min(later), "test_loss": test})
    return rows


def verdicts(rows: list) -> list:
    """Sentences on bfloat16 and torch.compile, each decided by the rows' numbers."""
    by = {(r["amp"], r["compiled"]): r for r in rows}
    out = []
    bf16, fp32, comp = by.get((True, False)), by.get((False, False)), by.get((True, True))
    if bf16 and fp32:
        gap = bf16["test_loss"] - fp32["test_loss"]
        faster = bf16["steady_s"] < fp32["steady_s"]
        keep = abs(gap) <= LOSS_BOUND and faster
        out.append(f"bfloat16 autocast: {bf16['steady_s']:.3f} s/epoch against float32's "
                   f"{fp32['steady_s']:.3f} s, test loss {gap:+.2f} nats/image from float32 "
                   f"(bound {LOSS_BOUND}): " + ("it helps and stays within the bound."
                                                if keep else "it does not pay here."))
    if comp and bf16:
        startup = comp["first_s"] - comp["steady_s"]
        saving = bf16["steady_s"] - comp["steady_s"]
        if saving > 0:
            out.append(f"torch.compile: start-up {startup:.1f} s, then {saving:.3f} s/epoch "
                       f"saved: it pays for itself after {startup / saving:.0f} epochs.")
        else:
            out.append(f"torch.compile: start-up {startup:.1f} s and no saving per epoch "
                       f"({-saving:+.3f} s/epoch): it does not pay.")
    return out


def target_line(label: str, seconds: float, target: float) -> str:
    return (f"{label}: {seconds:.3f} s, target under {target:g} s: "
            f"{'met' if seconds < target else 'missed'}")


def measure_faces(images: int, epochs: int) -> dict:
    """Chapter 08's conv VAE, via ``tools/bench_faces.py`` (the chapter's own model and loss)."""
    import bench_faces
    with contextlib.redirect_stdout(io.StringIO()):
        return bench_faces.measure(images, epochs)


def markdown(r: dict, command: str) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    default = next((row for row in r["mlp"] if row["amp"] and not row["compiled"]), r["mlp"][0])
    out = [f"Measured {when} by `{command}`.", "", f"- Machine: {r['machine']}.",
           f"- Load average (1/5/15 min): before {r['load_before']}, after {r['load_after']}.",
           "", f"**MLP VAE epoch** (784-400-20, {r['mlp_data']}, batch 128, `train.fit`, "
               f"{r['epochs']} epochs per row):", "",
           "| variant | first epoch (s) | later epochs, best (s) | test loss (nats/image) |",
           "|---|---:|---:|---:|"]
    out += [f"| {row['name']} | {row['first_s']:.3f} | {row['steady_s']:.3f} | "
            f"{row['test_loss']:.2f} |" for row in r["mlp"]]
    out += [""] + [f"- {v}" for v in verdicts(r["mlp"])]
    out += [f"- {target_line('MLP epoch, ' + default['name'], default['steady_s'], MLP_TARGET_S)}."]
    f = r["faces"]
    out += ["", f"**Chapter 08's conv VAE** (its own `FaceVAE` and `face_loss`): {f['data']}; "
                f"{f['images']:,} images × {f['epochs']} epoch(s), batch {f['batch_size']}: "
                f"{f['images_per_s']:,.0f} images/s.", "",
            f"- {target_line('CelebA-size epoch (162,770 images) at that rate', f['celeba_epoch_s'], FACES_TARGET_S)}."]
    if "CelebA not found" in f["data"]:
        out.append("- CelebA was not on this machine: the images are the LFW stand-in, with "
                   "the same 64×64×3 pixels per image, so the time per image is CelebA's.")
    return "\n".join(out) + "\n"


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=3, help="epochs per MLP variant (default 3)")
    p.add_argument("--faces-images", type=int, default=32_768,
                   help="images per timed conv VAE epoch (default 32,768)")
    p.add_argument("--faces-epochs", type=int, default=3, help="timed conv VAE epochs (3)")
    p.add_argument("--update", type=Path, default=None, metavar="BENCHMARKS.md",
                   help="write the results between the bench-gpu markers of this file")
    args = p.parse_args(argv)
    for name in ("epochs", "faces_images", "faces_epochs"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer, "
                    f"got {getattr(args, name)}.")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    device = require_cuda()
    argv = sys.argv[1:] if argv is None else list(argv)
    seed_everything(0)
    r = {"machine": describe(device), "load_before": load_average(), "epochs": args.epochs}
    print(r["machine"])
    ds = data.load_fashion_mnist(verbose=False)
    r["mlp_data"] = f"{ds.name}, {len(ds.train):,} training images"
    r["mlp"] = measure_mlp(ds.train, ds.test, device, epochs=args.epochs)
    for row in r["mlp"]:
        print(f"MLP VAE, {row['name']}: first epoch {row['first_s']:.3f} s, later best "
              f"{row['steady_s']:.3f} s, test loss {row['test_loss']:.2f} nats/image")
    for line in verdicts(r["mlp"]):
        print(line)
    r["faces"] = measure_faces(args.faces_images, args.faces_epochs)
    print(f"conv VAE (chapter 08): {r['faces']['data']}: {r['faces']['images_per_s']:,.0f} "
          f"images/s, {r['faces']['celeba_epoch_s']:.1f} s per CelebA-size epoch")
    r["load_after"] = load_average()
    if args.update:
        update_section(args.update, markdown(r, COMMAND + "".join(" " + shlex.quote(a)
                                                                   for a in argv)), START, END)
        print(f"updated the GPU section of {args.update}")
    return r


if __name__ == "__main__":
    main()
