"""Profile: where one epoch of the course's training loop spends its time.

Developer tooling, not part of the ``course_utils`` package. It runs the code the book runs,
:func:`course_utils.train.fit`'s own epoch (``train._train_epoch`` with ``fit``'s default
optimiser), on the 784-400-20 :class:`~course_utils.models.MLPVAE` with
:func:`course_utils.losses.vae_loss`, full Fashion-MNIST, batch 128, and reports:

1. **phases**: wall-clock seconds of the epoch spent slicing batches, in the model's forward,
   in the loss (``loss_fn`` minus the model's forward), in ``backward()``, in the optimiser
   (``zero_grad`` + ``step``) and in the loop's own bookkeeping (the rest). Timed with hooks
   on an unmodified epoch (on a CPU every op is synchronous, so the clock is exact);
2. **ops**: the ``torch.profiler`` table of a second epoch, top ops by self CPU time, with
   calls per step (the per-op overhead shows as many calls of a few microseconds each);
3. **threads**: seconds per epoch at 1 and at ``--threads`` torch threads, interleaved;
4. **torch.compile** (``--compile``): the compiled model's first epoch (start-up included)
   and a steady epoch against eager ones, and the number of epochs after which the start-up
   has paid for itself;
5. **bfloat16**: on a CPU with AVX512-BF16 (or AMX), epoch time and test loss under
   ``torch.autocast("cpu", bfloat16)`` against float32 after the same epochs; elsewhere a
   line saying the CPU lacks it.

The machine's load average is printed beside every measurement. ``--update BENCHMARKS.md``
writes the report between the ``profile`` markers of that file; every number in it comes
from this run.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's course_utils
from course_utils import data, losses, models, train  # noqa: E402
from course_utils.runtime import describe, seed_everything  # noqa: E402

COMMAND = "python tools/profile_epoch.py"
START, END = "<!-- profile:start -->", "<!-- profile:end -->"
PHASES = ("batch slicing", "model forward", "loss (beyond the forward)", "backward",
          "optimiser (zero_grad + step)", "loop bookkeeping (the rest)")


def code_version() -> str:
    """The commit of the ``course_utils`` profiled, and whether it has uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                "course_utils"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "course_utils of an unknown commit (not a git checkout)"
    return f"course_utils at commit {head}" + (" with uncommitted changes" if dirty else "")


def load_average() -> str:
    try:
        return "%.2f / %.2f / %.2f" % os.getloadavg()
    except OSError:
        return "unavailable"


def omp_setting() -> str:
    policy = os.environ.get("OMP_WAIT_POLICY")
    return f", OMP_WAIT_POLICY={policy}" if policy else ""


def cpu_has_bf16() -> bool:
    """Whether this CPU does bfloat16 matmuls in hardware (AVX512-BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class PhaseClock:
    """Seconds per phase of ``train._train_epoch``, measured with hooks and wrappers.

    The model's forward is timed by module hooks, the optimiser by its step hooks, the loss
    by wrapping ``loss_fn``, ``backward`` by wrapping ``torch.Tensor.backward`` and the batch
    slicing by wrapping the ``batches`` generator ``train`` uses, all only inside
    :meth:`epoch`. Bookkeeping is the epoch's time minus the other phases. ``timer``: the
    wall clock, or ``time.process_time`` for the CPU time of the process (steadier on a
    machine shared with other work: it leaves out the time spent waiting for a core).
    """

    def __init__(self, timer=time.perf_counter):
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.timer = timer  # time.perf_counter (wall) or time.process_time (CPU)

    @contextlib.contextmanager
    def _timed(self, phase):
        start = self.timer()
        try:
            yield
        finally:
            self.seconds[phase] += self.timer() - start

    def epoch(self, model, loss_fn, split, optimizer, *, batch_size, generator, amp=False):
        clock, marks = self, {}
        original_batches, original_backward = train.batches, torch.Tensor.backward

        def timed_batches(*args, **kwargs):
            it = original_batches(*args, **kwargs)
            while True:
                with clock._timed("batch slicing"):
                    item = next(it, None)
                if item is None:
                    return
                yield item

        def timed_loss(m, x, y):
            before = clock.seconds["model forward"]
            start = clock.timer()
            out = loss_fn(m, x, y)
            forward = clock.seconds["model forward"] - before
            clock.seconds["loss (beyond the forward)"] += clock.timer() - start - forward
            return out

        def timed_backward(tensor, *args, **kwargs):
            with clock._timed("backward"):
                return original_backward(tensor, *args, **kwargs)

        def pre(*_):
            marks["t"] = clock.timer()

        def post(phase):
            def hook(*_):
                clock.seconds[phase] += clock.timer() - marks.pop("t")
            return hook

        zero_grad = optimizer.zero_grad

        def timed_zero_grad(*args, **kwargs):
            with clock._timed("optimiser (zero_grad + step)"):
                return zero_grad(*args, **kwargs)

        handles = [model.register_forward_pre_hook(pre),
                   model.register_forward_hook(post("model forward")),
                   optimizer.register_step_pre_hook(pre),
                   optimizer.register_step_post_hook(post("optimiser (zero_grad + step)"))]
        train.batches, torch.Tensor.backward = timed_batches, timed_backward
        optimizer.zero_grad = timed_zero_grad
        start = clock.timer()
        try:
            train._train_epoch(model, timed_loss, split, optimizer, epoch=0,
                               batch_size=batch_size, generator=generator,
                               device=torch.device("cpu"), amp=amp)
        finally:
            total = clock.timer() - start
            train.batches, torch.Tensor.backward = original_batches, original_backward
            del optimizer.zero_grad
            for h in handles:
                h.remove()
        self.seconds["loop bookkeeping (the rest)"] = total - sum(
            v for k, v in self.seconds.items() if k != "loop bookkeeping (the rest)")
        return total


def epoch_clocks(model, split, optimizer, *, batch_size, seed, amp=False) -> tuple:
    """``(wall seconds, process CPU seconds)`` of one unhooked epoch of ``train._train_epoch``.

    On a machine shared with other work the wall clock also counts the time this process
    waited for a core; the CPU clock counts only the time its threads ran.
    """
    start, cpu = time.perf_counter(), time.process_time()
    with _cpu_autocast(amp):
        train._train_epoch(model, losses.vae_loss, split, optimizer, epoch=0,
                           batch_size=batch_size, generator=torch.Generator().manual_seed(seed),
                           device=torch.device("cpu"), amp=False)
    return time.perf_counter() - start, time.process_time() - cpu


def plain_epoch(model, split, optimizer, *, batch_size, seed, amp=False) -> float:
    """Wall seconds of one unhooked epoch of ``train._train_epoch``."""
    return epoch_clocks(model, split, optimizer, batch_size=batch_size, seed=seed, amp=amp)[0]


def _cpu_autocast(on: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16) if on else contextlib.nullcontext()


def fresh(seed: int = 0):
    """The same initial 784-400-20 model and fit's default optimiser, every call."""
    torch.manual_seed(seed)
    model = models.MLPVAE(latent_dim=20, hidden_dim=400)
    adam = getattr(train, "_adam", None)  # fit's default; plain Adam in older checkouts
    return model, (adam(model.parameters(), 1e-3) if adam
                   else torch.optim.Adam(model.parameters(), lr=1e-3))


def op_table(model, split, optimizer, *, batch_size, rows: int) -> tuple:
    """``(rows of (op, self seconds, share, calls per step, us per call), self total)``."""
    from torch.profiler import ProfilerActivity, profile
    steps = -(-len(split) // batch_size)
    with contextlib.redirect_stderr(io.StringIO()), \
            profile(activities=[ProfilerActivity.CPU]) as prof:
        plain_epoch(model, split, optimizer, batch_size=batch_size, seed=1)
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events) / 1e6
    events.sort(key=lambda e: -e.self_cpu_time_total)
    table = [(e.key, e.self_cpu_time_total / 1e6, e.self_cpu_time_total / 1e6 / total,
              e.count / steps, e.self_cpu_time_total / e.count) for e in events[:rows]]
    return table, total


def measure(args) -> dict:
    ds = data.load_fashion_mnist(limit_train=args.limit, limit_test=args.limit, verbose=False)
    split = ds.train
    steps = -(-len(split) // args.batch_size)
    r = {"data": f"{ds.name}: {len(split):,} training images ({ds.source})",
         "code": code_version(),
         "batch_size": args.batch_size, "steps": steps, "threads": args.threads,
         "load_before": load_average()}
    seed_everything(0, threads=args.threads)
    r["machine"] = describe("cpu")
    print(f"{r['code']}; {r['machine']}{omp_setting()}")
    print(f"{r['data']}; batch {args.batch_size} ({steps} steps); load {r['load_before']}")

    # Warm-up (first-call set-up, allocator), then the phases of one epoch.
    model, opt = fresh()
    plain_epoch(model, split.head(4 * args.batch_size), opt, batch_size=args.batch_size, seed=0)
    model, opt = fresh()
    clock = PhaseClock(time.perf_counter if args.clock == "wall" else time.process_time)
    r["epoch_s"] = clock.epoch(model, losses.vae_loss, split, opt, batch_size=args.batch_size,
                               generator=torch.Generator().manual_seed(0))
    r["phases"] = dict(clock.seconds)
    r["load_phases"] = load_average()
    r["clock"] = args.clock
    print(f"one epoch, {args.threads} thread(s): {r['epoch_s']:.2f} s {args.clock} clock "
          f"(load {r['load_phases']})")
    for k, v in r["phases"].items():
        print(f"  {k:<30} {v:6.2f} s  {100 * v / r['epoch_s']:5.1f} %  "
              f"{1e3 * v / steps:6.2f} ms/step")

    r["ops"], r["ops_total"] = op_table(model, split, opt, batch_size=args.batch_size,
                                        rows=args.rows)
    print(f"torch.profiler, one epoch, top {args.rows} ops by self CPU time "
          f"(total {r['ops_total']:.2f} s, profiler overhead included):")
    for name, s, share, per_step, us in r["ops"]:
        print(f"  {name:<40} {s:6.2f} s {100 * share:5.1f} % {per_step:6.1f} calls/step "
              f"{us:8.1f} us/call")

    if args.threads != 1:  # threads: the same epoch at 1 and at --threads, interleaved
        times = {1: [], args.threads: []}
        for _ in range(args.repeats):
            for t in times:
                torch.set_num_threads(t)
                model, opt = fresh()
                times[t].append(plain_epoch(model, split, opt, batch_size=args.batch_size,
                                            seed=0))
        torch.set_num_threads(args.threads)
        r["threads_s"] = {t: min(v) for t, v in times.items()}
        r["load_threads"] = load_average()
        print("threads: " + ", ".join(f"{t}: {s:.2f} s/epoch" for t, s in r["threads_s"].items())
              + f" (best of {args.repeats}; load {r['load_threads']})")

    if args.wait_policies:
        r["policies"] = measure_wait_policies(args)
    if args.compile:
        r["compile"] = measure_compile(split, args)
    r["bf16"] = measure_bf16(ds, args) if cpu_has_bf16() else None
    if r["bf16"] is None:
        print("bfloat16: this CPU has neither AVX512-BF16 nor AMX: not measured")
    r["load_after"] = load_average()
    return r


POLICIES = ("OpenMP's default", "OMP_WAIT_POLICY=PASSIVE")


def measure_wait_policies(args) -> dict:
    """ms per step of ``args.wait_policies`` steps in a fresh process per OpenMP wait policy.

    The policy is read once, when the OpenMP runtime starts, so each run is its own process
    (``--time-steps``), with the policy unset (OpenMP's default: a waiting thread spins a
    while) or ``PASSIVE`` (it sleeps). Interleaved, best of ``--repeats``.
    """
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--threads", str(args.threads),
           "--batch-size", str(args.batch_size), "--time-steps", str(args.wait_policies)]
    best = dict.fromkeys(POLICIES, float("inf"))
    for _ in range(args.repeats):
        for policy in POLICIES:
            extra = {"OMP_WAIT_POLICY": "PASSIVE"} if "PASSIVE" in policy else {}
            out = subprocess.run(cmd, env={**env, **extra}, capture_output=True, text=True,
                                 check=True).stdout
            ms = float(out.strip().splitlines()[-1].split()[1])
            best[policy] = min(best[policy], ms)
    result = {"steps": args.wait_policies, "ms_per_step": best, "load": load_average()}
    print(f"OpenMP wait policy, {args.threads} threads, {args.wait_policies} steps: " +
          ", ".join(f"{k}: {v:.1f} ms/step" for k, v in best.items()) + f" (load {result['load']})")
    return result


def time_steps(args) -> None:
    """Child mode of :func:`measure_wait_policies`: print ``ms/step N`` for N steps."""
    ds = data.load_fashion_mnist(limit_train=args.time_steps * args.batch_size, limit_test=1,
                                 verbose=False)
    seed_everything(0, threads=args.threads)
    model, opt = fresh()
    plain_epoch(model, ds.train.head(2 * args.batch_size), opt, batch_size=args.batch_size,
                seed=0)
    seconds = plain_epoch(model, ds.train, opt, batch_size=args.batch_size, seed=1)
    print(f"ms/step {1e3 * seconds / args.time_steps:.3f}")


def measure_compile(split, args) -> dict:
    """Eager vs ``torch.compile(model)``, interleaved for ``--compile-rounds`` epochs each.

    Start-up = the compiled model's first epoch less its best later one; saving per epoch =
    the best eager epoch less the best later compiled one (best of, so that the machine's
    load inflates neither side more than the other).
    """
    torch._dynamo.reset()
    eager, eager_opt = fresh()
    compiled, compiled_opt = fresh()
    compiled_fn = torch.compile(compiled)
    out = {"eager": [], "compiled": [], "run_epochs": args.run_epochs}
    for r in range(args.compile_rounds):
        out["eager"].append(plain_epoch(eager, split, eager_opt, batch_size=args.batch_size,
                                        seed=r))
        out["compiled"].append(plain_epoch(compiled_fn, split, compiled_opt,
                                           batch_size=args.batch_size, seed=r))
    steady = min(out["compiled"][1:])
    out["steady_s"] = steady
    out["startup_s"] = out["compiled"][0] - steady
    out["saving_s"] = min(out["eager"]) - steady
    out["break_even"] = out["startup_s"] / out["saving_s"] if out["saving_s"] > 0 else None
    out["load"] = load_average()
    print(f"torch.compile(model): first epoch {out['compiled'][0]:.2f} s, then best "
          f"{steady:.2f} s; eager best {min(out['eager']):.2f} s/epoch "
          f"(load {out['load']}): " + compile_verdict(out))
    return out


def compile_verdict(c: dict) -> str:
    if c["break_even"] is None:
        return (f"a compiled epoch is not faster ({-c['saving_s']:+.2f} s/epoch), so compiling "
                "never pays")
    run = c.get("run_epochs")
    within = ("" if not run else
              f"; {'within' if c['break_even'] <= run else 'not within'} a {run}-epoch run")
    return (f"start-up {c['startup_s']:.1f} s, saving {c['saving_s']:.2f} s/epoch: pays for "
            f"itself after {c['break_even']:.0f} epochs{within}")


def measure_bf16(ds, args) -> dict:
    """float32 vs bfloat16 autocast: seconds per epoch and test loss after the same epochs."""
    out = {}
    for name, amp in (("float32", False), ("bfloat16", True)):
        model, opt = fresh()
        seconds = [plain_epoch(model, ds.train, opt, batch_size=args.batch_size, seed=e, amp=amp)
                   for e in range(args.bf16_epochs)]
        torch.manual_seed(0)
        test = train.evaluate(model, losses.vae_loss, ds.test)["loss"]
        out[name] = {"s_per_epoch": sum(seconds) / len(seconds), "test_loss": test}
    out["epochs"], out["load"] = args.bf16_epochs, load_average()
    print(f"bfloat16 autocast: {out['bfloat16']['s_per_epoch']:.2f} s/epoch, test loss "
          f"{out['bfloat16']['test_loss']:.2f}; float32: {out['float32']['s_per_epoch']:.2f} "
          f"s/epoch, {out['float32']['test_loss']:.2f} nats/image")
    return out


def markdown(r: dict, command: str) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    steps, epoch = r["steps"], r["epoch_s"]
    out = [f"Measured {when} by `{command}`.", "",
           f"- Code: {r['code']}.", f"- Machine: {r['machine']}{omp_setting()}.",
           f"- Load average (1/5/15 min): before {r['load_before']}, after {r['load_after']}"
           + loaded_note(r), f"- Data: {r['data']}; batch {r['batch_size']}, {steps} steps.", "",
           f"**Phases of one epoch** ({r['threads']} thread(s), {epoch:.2f} s in all, "
           f"{_clock_words(r.get('clock', 'wall'))}):", "",
           "| phase | s/epoch | share | ms/step |", "|---|---:|---:|---:|"]
    out += [f"| {k} | {v:.2f} | {100 * v / epoch:.1f} % | {1e3 * v / steps:.2f} |"
            for k, v in r["phases"].items()]
    out += ["", f"**Top ops** (`torch.profiler`, self CPU time of one epoch, "
                f"{r['ops_total']:.2f} s in all with the profiler's own overhead):", "",
            "| op | s/epoch | share | calls/step | µs/call |", "|---|---:|---:|---:|---:|"]
    out += [f"| `{name}` | {s:.2f} | {100 * share:.1f} % | {per_step:.1f} | {us:.1f} |"
            for name, s, share, per_step, us in r["ops"]]
    if "threads_s" in r:
        out += ["", "**Threads**: " + ", ".join(f"{t} thread(s) {s:.2f} s/epoch"
                                               for t, s in r["threads_s"].items())
                + f" (best of each, interleaved; load {r['load_threads']})."]
    if "policies" in r:
        pol = r["policies"]
        out += ["", f"**OpenMP wait policy** ({r['threads']} threads, {pol['steps']} steps in a "
                    f"fresh process each, best of each, interleaved; load {pol['load']}): "
                + ", ".join(f"{k} {v:.1f} ms/step" for k, v in pol["ms_per_step"].items())
                + "."]
    if "compile" in r:
        c = r["compile"]
        out += ["", f"**torch.compile(model)** ({len(c['compiled'])} epochs each, interleaved "
                    f"with eager): first epoch {c['compiled'][0]:.2f} s, best later "
                    f"{c['steady_s']:.2f} s; eager best {min(c['eager']):.2f} s/epoch "
                    f"(load {c['load']}): {compile_verdict(c)}."]
    if r["bf16"] is None:
        out += ["", "**bfloat16**: not measured: this CPU has neither AVX512-BF16 nor AMX."]
    else:
        b = r["bf16"]
        out += ["", f"**bfloat16 autocast** ({b['epochs']} epoch(s), load {b['load']}): "
                    f"{b['bfloat16']['s_per_epoch']:.2f} s/epoch, test loss "
                    f"{b['bfloat16']['test_loss']:.2f} nats/image; float32 "
                    f"{b['float32']['s_per_epoch']:.2f} s/epoch, "
                    f"{b['float32']['test_loss']:.2f} nats/image."]
    return "\n".join(out) + "\n"


def _clock_words(clock: str) -> str:
    return ("wall clock" if clock == "wall" else
            "CPU time of the process: the time its threads ran, leaving out waits for a core")


def loaded_note(r: dict) -> str:
    """A warning when the load average exceeded the machine's cores during the run."""
    try:
        cores = os.cpu_count() or 1
        loads = [float(v) for key in ("load_before", "load_after")
                 for v in r[key].split(" / ")[:1]]
    except (ValueError, KeyError):
        return "."
    if max(loads) > cores:
        return (f" (1-min load above the {cores} cores: the machine was loaded by other work "
                "and every time here is inflated).")
    return "."


def update_section(path: Path, fragment: str, start: str = START, end: str = END) -> None:
    """Replace the text between ``start`` and ``end`` in ``path`` with ``fragment``."""
    text = path.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{path} has no section for this report: it needs the lines {start} "
                         f"and {end} around the place for it.")
    head, rest = text.split(start, 1)
    path.write_text(f"{head}{start}\n{fragment}{end}{rest.split(end, 1)[1]}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--batch-size", type=int, default=128, help="batch size (default 128)")
    p.add_argument("--limit", type=int, default=None, help="first N train/test images only")
    p.add_argument("--rows", type=int, default=12, help="ops listed (default 12)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="clock of the phase table: wall (default) or cpu (the process's CPU "
                        "time, steadier on a machine shared with other work)")
    p.add_argument("--repeats", type=int, default=2, help="epochs per thread count (default 2)")
    p.add_argument("--compile", action="store_true", help="also measure torch.compile(model)")
    p.add_argument("--compile-rounds", type=int, default=3,
                   help="epochs of eager and of compiled training for --compile (default 3)")
    p.add_argument("--run-epochs", type=int, default=10,
                   help="the run length the compile verdict is judged against (default 10: "
                        "make bench's run)")
    p.add_argument("--wait-policies", type=int, default=None, metavar="STEPS",
                   help="also time STEPS steps under OpenMP's default wait policy and under "
                        "OMP_WAIT_POLICY=PASSIVE, each in a fresh process")
    p.add_argument("--time-steps", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--section", default="profile",
                   help="the name in the markers of the section --update writes (profile: "
                        "<!-- profile:start --> ... <!-- profile:end -->)")
    p.add_argument("--bf16-epochs", type=int, default=3,
                   help="epochs of the bfloat16 comparison, on CPUs that have it (default 3)")
    p.add_argument("--update", type=Path, default=None, metavar="BENCHMARKS.md",
                   help="write the report between the profile markers of this file")
    args = p.parse_args(argv)
    for name in ("threads", "batch_size", "limit", "rows", "repeats", "bf16_epochs",
                 "wait_policies", "time_steps", "run_epochs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}.")
    if args.compile_rounds < 2:
        p.error(f"--compile-rounds must be at least 2 (a first epoch and a later one), got "
                f"{args.compile_rounds}.")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.time_steps:
        return time_steps(args)
    argv = sys.argv[1:] if argv is None else list(argv)
    r = measure(args)
    if args.update:
        update_section(args.update, markdown(r, COMMAND + "".join(" " + shlex.quote(a)
                                                                   for a in argv)),
                       f"<!-- {args.section}:start -->", f"<!-- {args.section}:end -->")
        print(f"updated the profile section of {args.update}")
    return r


if __name__ == "__main__":
    main()
