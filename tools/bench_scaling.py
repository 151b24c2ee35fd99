"""Benchmark: how the cost of training and of vector quantisation grows.

Developer tooling, not part of the ``course_utils`` package. Two tables:

1. **Batch size** (64 ... 1024): seconds per epoch of the 784-400-20
   :class:`~course_utils.models.MLPVAE` trained the way the book trains it (the epoch of
   :func:`course_utils.train.fit`, its default optimiser, :func:`course_utils.losses.vae_loss`)
   on full Fashion-MNIST. The batch sizes are interleaved (one epoch of each, then again) and
   the best epoch of each is kept. A least-squares fit ``seconds = work + steps * per_step``
   splits an epoch into the part that does not depend on the batch size (the multiply-adds of
   an epoch are the same at every batch size) and a cost per optimiser step.
2. **Codebook size** K (64 ... 4096): milliseconds per batch of tokens for chapter 10's
   nearest-code search, written here as the chapter writes it (``VectorQuantizer.forward``):
   ``scores = addmm(||e||^2, z, E^T, alpha=-2)``, then ``argmin`` over the K codes, for one
   training batch's tokens (128 images x 7 x 7 positions, D = 64), with the share of the
   ``argmin``.

Under each table the script prints (and writes) one sentence on where the curve bends, found
from the numbers it measured. ``--update BENCHMARKS.md`` writes both between the
``scaling`` markers of that file; the load average is recorded beside the numbers.
"""
from __future__ import annotations

import argparse
import datetime
import math
import shlex
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's course_utils
sys.path.insert(0, str(ROOT / "tools"))
from course_utils import data  # noqa: E402
from course_utils.runtime import describe, seed_everything  # noqa: E402
from profile_epoch import (epoch_clocks, fresh, load_average, loaded_note, plain_epoch,  # noqa: E402
                           update_section)

COMMAND = "python tools/bench_scaling.py"
START, END = "<!-- scaling:start -->", "<!-- scaling:end -->"
BATCH_SIZES = (64, 128, 256, 512, 1024)
CODEBOOK_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)
TOKENS, DIM = 128 * 7 * 7, 64  # one chapter-10 training batch: 128 images, 7x7 tokens, D = 64


# --- 1. seconds per epoch against batch size --------------------------------------------------

def batch_table(split, batch_sizes=BATCH_SIZES, repeats: int = 2, clock: str = "wall") -> list:
    """Rows ``{batch, steps, wall_s, cpu_s, s_per_epoch, images_per_s}``, best of ``repeats``
    interleaved epochs per batch size; ``s_per_epoch`` is the ``clock`` one (wall or cpu)."""
    wall = {b: float("inf") for b in batch_sizes}
    cpu = dict(wall)
    model, opt = fresh()
    plain_epoch(model, split.head(4 * max(batch_sizes)), opt, batch_size=max(batch_sizes),
                seed=0)  # warm-up
    for r in range(repeats):
        for b in batch_sizes:
            model, opt = fresh()
            w, c = epoch_clocks(model, split, opt, batch_size=b, seed=r)
            wall[b], cpu[b] = min(wall[b], w), min(cpu[b], c)
    n = len(split)
    rows = []
    for b in batch_sizes:
        s = wall[b] if clock == "wall" else cpu[b]
        rows.append({"batch": b, "steps": -(-n // b), "wall_s": wall[b], "cpu_s": cpu[b],
                     "s_per_epoch": s, "images_per_s": n / s})
    return rows


def fit_work_and_step(rows: list) -> tuple:
    """Least squares ``s_per_epoch = work + steps * per_step``; returns ``(work, per_step)``."""
    steps = torch.tensor([float(r["steps"]) for r in rows], dtype=torch.float64)
    secs = torch.tensor([r["s_per_epoch"] for r in rows], dtype=torch.float64)
    a = torch.stack([torch.ones_like(steps), steps], 1)
    work, per_step = torch.linalg.lstsq(a, secs[:, None]).solution[:, 0].tolist()
    return work, per_step


def batch_bend(rows: list) -> str:
    """One sentence on where seconds per epoch stop falling, from the measured rows.

    With ``seconds = work + steps * per_step`` fitted to the rows and ``steps = N / batch``,
    the two parts are equal at ``batch = N * per_step / work``: below that batch size the
    per-step costs dominate and doubling the batch nearly halves them; above it the epoch
    approaches ``work``, which no batch size removes.
    """
    work, per_step = fit_work_and_step(rows)
    first, last = rows[0], rows[-1]
    n = first["steps"] * first["batch"]
    worst = max(abs(work + r["steps"] * per_step - r["s_per_epoch"]) / r["s_per_epoch"]
                for r in rows)
    measured = (f"Seconds per epoch fall from {first['s_per_epoch']:.2f} s at batch "
                f"{first['batch']} to {last['s_per_epoch']:.2f} s at batch {last['batch']}. ")
    if work <= 0 or per_step <= 0:
        return measured + ("A fit of seconds = work + steps × cost per step does not describe "
                           "these rows (a part came out negative), so no bend is named.")
    knee = n * per_step / work
    return (measured + f"A least-squares fit, seconds = {work:.2f} s + steps × "
            f"{1e3 * per_step:.2f} ms (within {100 * worst:.0f} % of every row), puts the bend "
            f"near batch {knee:.0f}, where the two parts are equal: below it the cost per "
            f"optimiser step (the optimiser, op overheads, small ops that do not grow with the "
            f"batch) dominates and doubling the batch nearly halves it; above it the epoch "
            f"approaches the {work:.2f} s of work per image (the multiply-adds and "
            f"elementwise passes over the pixels, the same at every batch size).")


# --- 2. nearest-code search against codebook size K -------------------------------------------

def nearest_codes(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Chapter 10's search: indices of the nearest codes, ``z: (N, D)``, ``codebook: (K, D)``.

    ``||z - e_k||^2`` less ``||z||^2`` (the same for every k) is ``||e_k||^2 - 2 z.e_k``:
    one ``addmm`` and an ``argmin`` over the K codes, as in ``VectorQuantizer.forward``.
    """
    e_sq = codebook.pow(2).sum(1)
    scores = torch.addmm(e_sq, z, codebook.t(), alpha=-2)
    return scores.argmin(1)


def _best_ms(fn, repeats: int, number: int, clock=time.perf_counter) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - start) / number)
    return 1e3 * best


@torch.no_grad()
def codebook_table(sizes=CODEBOOK_SIZES, tokens: int = TOKENS, dim: int = DIM,
                   repeats: int = 5, number: int = 5, clock: str = "wall") -> list:
    """Rows ``{K, ms, argmin_ms, scores_mb, gflops}`` for one batch of ``tokens`` vectors,
    timed by the ``clock`` (``wall``, or ``cpu``: the process's CPU time)."""
    timer = time.perf_counter if clock == "wall" else time.process_time
    g = torch.Generator().manual_seed(0)
    z = torch.randn(tokens, dim, generator=g)
    books = {k: torch.randn(k, dim, generator=g) for k in sizes}
    scores = {k: torch.addmm(books[k].pow(2).sum(1), z, books[k].t(), alpha=-2) for k in sizes}
    ms = {k: float("inf") for k in sizes}
    argmin_ms = dict(ms)
    for _ in range(repeats):  # interleaved over K, best of each
        for k in sizes:
            ms[k] = min(ms[k], _best_ms(lambda: nearest_codes(z, books[k]), 1, number, timer))
            argmin_ms[k] = min(argmin_ms[k],
                               _best_ms(lambda: scores[k].argmin(1), 1, number, timer))
    return [{"K": k, "ms": ms[k], "argmin_ms": argmin_ms[k],
             "scores_mb": tokens * k * 4 / 2**20,
             "gflops": 2 * tokens * k * dim / (ms[k] / 1e3) / 1e9} for k in sizes]


def codebook_bend(rows: list, linear: float = 1.6, drop: float = 0.8) -> str:
    """Where the search time bends, from the measured rows: one or two sentences.

    First bend: the first K after which a doubling of K multiplies the time by ``linear`` or
    more (below it, costs that do not depend on K weigh as much as the search). Second bend:
    the K of the best multiply-add rate, when the largest K runs below ``drop`` times that
    rate; the cause is named (the score matrix outgrowing the last-level cache) only when the
    first K whose score matrix is larger than that cache is also the first K below the rate.
    """
    first, last = rows[0], rows[-1]
    bend = next((a for a, b in zip(rows, rows[1:]) if _per_doubling(a, b) >= linear), None)
    if bend is None:
        text = (f"No doubling of K multiplies the time by {linear:.1f} or more (on average "
                f"{_per_doubling(first, last):.2f}x per doubling, {first['ms']:.2f} ms at "
                f"K = {first['K']} to {last['ms']:.2f} ms at K = {last['K']}): costs that do "
                f"not grow with K weigh as much as the search at every size here.")
    else:
        text = ("" if bend is first else
                f"Up to K = {bend['K']} the time grows slower than K (costs that do not depend "
                f"on K weigh as much as the search); ")
        text += (f"{'f' if text else 'F'}rom K = {bend['K']} on it grows about "
                 f"{_per_doubling(bend, last):.2f}x per doubling ({bend['ms']:.2f} ms to "
                 f"{last['ms']:.2f} ms at K = {last['K']}), as the addmm's 2·N·K·D "
                 f"multiply-adds and the N×K scores the argmin reads do.")
    peak = max(rows, key=lambda r: r["gflops"])
    if last is not peak and last["gflops"] < drop * peak["gflops"]:
        text += (f" The rate bends down after K = {peak['K']} ({peak['gflops']:.1f} GFLOP/s "
                 f"there, {last['gflops']:.1f} at K = {last['K']})")
        l3 = l3_cache_mb()
        over = next((r for r in rows if l3 is not None and r["scores_mb"] > l3), None)
        slow = next((r for r in rows if r["K"] > peak["K"]
                     and r["gflops"] < 0.9 * peak["gflops"]), None)
        if over is not None and slow is not None and over["K"] == slow["K"]:
            text += (f": from K = {over['K']} the {over['scores_mb']:.0f} MB score matrix no "
                     f"longer fits the {l3:.0f} MB L3 cache, so it is written to and read back "
                     f"from memory")
        text += "."
    return text


def _per_doubling(a: dict, b: dict) -> float:
    """The factor by which the time grows per doubling of K from row ``a`` to row ``b``."""
    return (b["ms"] / a["ms"]) ** (1 / math.log2(b["K"] / a["K"]))


def l3_cache_mb():
    """The CPU's last-level cache in MB (Linux sysfs), or None when unknown."""
    try:
        caches = sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"))
        sizes = [(int((c / "level").read_text()), (c / "size").read_text().strip())
                 for c in caches]
        size = max(sizes)[1]
        return int(size[:-1]) / 1024 if size.endswith("K") else int(size[:-1]) if \
            size.endswith("M") else None
    except (OSError, ValueError):
        return None


def _vs_cache(row) -> str:
    l3 = l3_cache_mb()
    if l3 is None:
        return ""
    return f", {'more' if row['scores_mb'] > l3 else 'less'} than the {l3:.0f} MB L3 cache"


# --- report -----------------------------------------------------------------------------------

def markdown(r: dict, command: str) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    clock = ("wall-clock time" if r["clock"] == "wall" else
             "CPU time of the process (time its threads ran; on a shared machine the wall "
             "clock also counts waiting for a core)")
    out = [f"Measured {when} by `{command}`.", "", f"- Machine: {r['machine']}.",
           f"- Load average (1/5/15 min): before {r['load_before']}, after {r['load_after']}"
           + loaded_note(r), f"- Clock for the bends and the derived columns: {clock}.", ""]
    if r.get("batch"):
        out += [f"**Seconds per epoch against batch size**: 784-400-20 MLP VAE, the epoch of "
                f"`train.fit` with its default optimiser, {r['data']}; best of "
                f"{r['repeats']} interleaved epochs per batch size.", "",
                "| batch | steps/epoch | s/epoch (wall) | s/epoch (CPU) | images/s | ms/step |",
                "|---:|---:|---:|---:|---:|---:|"]
        out += [f"| {row['batch']} | {row['steps']} | {row['wall_s']:.2f} | {row['cpu_s']:.2f} "
                f"| {row['images_per_s']:,.0f} | {1e3 * row['s_per_epoch'] / row['steps']:.2f} |"
                for row in r["batch"]]
        out += ["", batch_bend(r["batch"]), ""]
    if r.get("codebook"):
        out += [f"**Nearest-code search against codebook size K** (chapter 10's "
                f"`addmm(‖e‖², z, Eᵀ, alpha=-2)` then `argmin`): one batch of {TOKENS:,} "
                f"tokens (128 images × 7 × 7), D = {DIM}, best of {r['vq_repeats']} "
                f"interleaved runs.", "",
                "| K | ms/batch | of which argmin (ms) | score matrix (MB) | GFLOP/s |",
                "|---:|---:|---:|---:|---:|"]
        out += [f"| {row['K']} | {row['ms']:.2f} | {row['argmin_ms']:.2f} | "
                f"{row['scores_mb']:.1f} | {row['gflops']:.1f} |" for row in r["codebook"]]
        out += ["", codebook_bend(r["codebook"]), ""]
    return "\n".join(out)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--limit", type=int, default=None, help="first N training images only")
    p.add_argument("--repeats", type=int, default=2, help="epochs per batch size (default 2)")
    p.add_argument("--vq-repeats", type=int, default=5, help="runs per K (default 5)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    p.add_argument("--codebook-sizes", type=int, nargs="+", default=list(CODEBOOK_SIZES))
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="the clock the bends are found with: wall (default) or cpu (the "
                        "process's CPU time: steadier on a machine shared with other work)")
    p.add_argument("--only", choices=("batch", "codebook"), default=None,
                   help="run one of the two tables only")
    p.add_argument("--update", type=Path, default=None, metavar="BENCHMARKS.md",
                   help="write the tables between the scaling markers of this file")
    args = p.parse_args(argv)
    for name in ("threads", "limit", "repeats", "vq_repeats"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}.")
    for name in ("batch_sizes", "codebook_sizes"):
        values = getattr(args, name)
        if min(values) < 1 or sorted(values) != values or len(values) < 2:
            p.error(f"--{name.replace('_', '-')} needs at least two positive sizes in increasing "
                    f"order, got {values}.")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    seed_everything(0, threads=args.threads)
    r = {"machine": describe("cpu"), "load_before": load_average(), "repeats": args.repeats,
         "vq_repeats": args.vq_repeats, "clock": args.clock}
    print(f"{r['machine']}; load {r['load_before']}")
    if args.only in (None, "batch"):
        ds = data.load_fashion_mnist(limit_train=args.limit, limit_test=1, verbose=False)
        r["data"] = f"{ds.name}, {len(ds.train):,} training images"
        r["batch"] = batch_table(ds.train, args.batch_sizes, args.repeats, args.clock)
        print(f"seconds per epoch against batch size ({r['data']}; load {load_average()}):")
        for row in r["batch"]:
            print(f"  batch {row['batch']:>5}: {row['wall_s']:7.2f} s/epoch wall, "
                  f"{row['cpu_s']:7.2f} s CPU  {row['images_per_s']:9,.0f} images/s "
                  f"({args.clock})  {row['steps']:>4} steps")
        print(batch_bend(r["batch"]))
    if args.only in (None, "codebook"):
        r["codebook"] = codebook_table(args.codebook_sizes, repeats=args.vq_repeats,
                                       clock=args.clock)
        print(f"nearest-code search, {TOKENS:,} tokens x D = {DIM}, {args.clock} clock "
              f"(load {load_average()}):")
        for row in r["codebook"]:
            print(f"  K {row['K']:>5}: {row['ms']:8.2f} ms/batch (argmin {row['argmin_ms']:.2f} ms)"
                  f"  {row['gflops']:6.1f} GFLOP/s")
        print(codebook_bend(r["codebook"]))
    r["load_after"] = load_average()
    if args.update:
        update_section(args.update, markdown(r, COMMAND + "".join(" " + shlex.quote(a)
                                                                   for a in argv)), START, END)
        print(f"updated the scaling section of {args.update}")
    return r


if __name__ == "__main__":
    main()
