"""One training loop for every model in the course.

A *loss function* here is ``loss_fn(model, x, y) -> dict`` of per-example tensors
``(batch,)`` in nats, with at least the key ``"loss"`` (what is minimised); any other keys
(``"recon"``, ``"kl"``...) are logged too. It may also return a bare ``(batch,)`` tensor.
See :func:`course_utils.losses.vae_loss`.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import torch

from ._validate import ArgumentTypeError, flag, got, real_number, whole_number
from .data import Split, batches
from .models import eval_mode
from .runtime import SEED_MAX, check_device, get_device

__all__ = ["History", "fit", "evaluate"]


@dataclass
class History:
    """What :func:`fit` measured, one entry per finished epoch.

    Attributes:
        train: ``{term: [mean per example over the epoch's batches]}``, nats/example.
        test: ``{term: [mean per example on the test split]}``, nats/example (z sampled).
        seconds: wall-clock training seconds per epoch (evaluation excluded).
        interrupted: True when training was stopped with Ctrl-C (KeyboardInterrupt).
    """
    train: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)
    seconds: list = field(default_factory=list)
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        return len(self.seconds)

    def last(self, split: str = "test", term: str = "loss") -> float:
        """The final value of ``term`` on ``split`` (``'train'`` or ``'test'``)."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {got(split)}.")
        values = getattr(self, split).get(term)
        if not values:
            raise KeyError(f"no {split!r} values of {term!r} were recorded.")
        return values[-1]


def _as_terms(out) -> dict:
    terms = out if isinstance(out, dict) else {"loss": out}
    if "loss" not in terms:
        raise KeyError(f"the loss function returned keys {sorted(terms)}; one must be 'loss'.")
    loss = terms["loss"]
    if loss.dim() != 1:
        raise ValueError(f"the loss function must return one loss per example, shape (batch,); "
                         f"got shape {tuple(loss.shape)}. Sum over pixels/latents, not the batch.")
    for key, value in terms.items():  # every logged term is averaged per example too
        shape = tuple(getattr(value, "shape", ()))
        if not isinstance(value, torch.Tensor) or shape != tuple(loss.shape):
            raise ValueError(f"the loss function's term {key!r} has shape {shape} but 'loss' has "
                             f"shape {tuple(loss.shape)}; return every term per example, "
                             "shape (batch,), summed over pixels/latents, not the batch.")
    return terms


def _autocast(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


@torch.no_grad()
def evaluate(model, loss_fn, split: Split, *, batch_size: int = 1024, amp: bool = False) -> dict:
    """Mean of each loss term over ``split``, nats/example, with the model in eval mode.

    The loss function decides how z is drawn; the course's VAEs *sample* z here too, so the
    number is a true negative ELBO (evaluating at z = mu is not).

    Raises:
        ValueError: ``split`` is empty (there is no mean to take), or an argument has the
            wrong type (a model without parameters, a split that is not a :class:`Split`).
    """
    _check_model_and_loss(model, loss_fn)
    _check_split("split", split)
    batch_size = whole_number("batch_size", batch_size, what="examples per batch")
    device = next(model.parameters()).device
    sums: dict = {}
    with eval_mode(model):
        for x, y in batches(split.x, split.y, batch_size=batch_size, shuffle=False):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with _autocast(device, amp):
                terms = _as_terms(loss_fn(model, x, y))
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.float().sum())
    return {k: v / len(split) for k, v in sums.items()}


def _check_split(name: str, split) -> None:
    if not isinstance(split, Split):
        hint = (f"; pass one of its splits, e.g. {name}=ds.train" if hasattr(split, "train")
                else "; build one with data.Split(x, y)")
        raise ArgumentTypeError(f"the {name} split must be a course_utils.data.Split, got "
                                f"{got(split)}{hint}.")
    _check_not_empty(name, split)


def _check_model_and_loss(model, loss_fn) -> None:
    if not isinstance(model, torch.nn.Module):
        raise ArgumentTypeError(f"model must be a torch.nn.Module, got {got(model)}; the "
                                "signature is fit(model, loss_fn, train, test, epochs=...).")
    if next(model.parameters(), None) is None:
        raise ValueError(f"the model ({type(model).__name__}) has no parameters: there is "
                         "nothing to train or to place on a device.")
    if not callable(loss_fn):
        raise ArgumentTypeError(f"loss_fn must be a function loss_fn(model, x, y) -> dict, got "
                                f"{got(loss_fn)}; e.g. losses.vae_loss.")


def _check_not_empty(name: str, split) -> None:
    if len(split) == 0:
        raise ValueError(f"the {name} split is empty (0 examples); check how it was sliced "
                         "or loaded (e.g. a limit of 0, or a filter that kept no class).")


def _check_epochs(epochs) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1 (passes over the training split), "
                         f"got {epochs!r}" + (" (convert it: epochs=int(...))"
                                               if isinstance(epochs, float) else "") + ".")


def _check_optimizer(model, optimizer, lr):
    """The optimiser ``fit`` will use: Adam(lr) when ``optimizer`` is None, else ``optimizer``
    once it is known to train some of ``model``'s parameters at a learning rate above 0."""
    if optimizer is None:
        lr = 1e-3 if lr is None else real_number("lr", lr, above=0.0, what="the learning rate")
        return _adam(model.parameters(), lr)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ArgumentTypeError(f"optimizer must be a torch.optim.Optimizer (or None for Adam), "
                                f"got {got(optimizer)}; e.g. torch.optim.Adam(model.parameters(), "
                                "lr=1e-3).")
    mine = {id(p) for p in model.parameters() if p.requires_grad}
    groups = [g for g in optimizer.param_groups if any(id(p) in mine for p in g["params"])]
    if not groups:
        raise ValueError(f"the optimizer holds none of the model's trainable parameters, so "
                         f"training would change nothing; build it from this model: "
                         f"torch.optim.Adam(model.parameters(), lr=...) (a new model needs a "
                         f"new optimizer).")
    if all(float(g["lr"]) == 0.0 for g in groups):
        raise ValueError("the optimizer's learning rate is 0 for every parameter of the model, "
                         "so training would change nothing; give it a learning rate > 0 "
                         "(e.g. 1e-3).")
    if lr is not None and lr not in [g["lr"] for g in optimizer.param_groups]:
        raise ValueError(f"lr={lr!r} would be ignored: the optimizer sets the learning rate "
                         f"(now {_learning_rates(optimizer)}); leave lr out, or set it on the "
                         "optimizer.")
    return optimizer


def _check_fit_args(model, loss_fn, train, test, epochs, batch_size, lr, optimizer, device,
                    seed, amp, verbose, on_epoch_end):
    """Every argument of :func:`fit` checked: ``(optimizer, device, amp)`` to use."""
    _check_model_and_loss(model, loss_fn)
    _check_epochs(epochs)
    _check_split("train", train)
    if test is not None:
        _check_split("test", test)
    whole_number("batch_size", batch_size, what="examples per batch")
    whole_number("seed", seed, minimum=0, maximum=SEED_MAX)
    flag("verbose", verbose)
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise ArgumentTypeError(f"on_epoch_end must be a function (epoch, history) or None, "
                                f"got {got(on_epoch_end)}.")
    device = check_device(device) if device is not None else get_device()
    amp = (device.type == "cuda") if amp is None else flag("amp", amp)
    return _check_optimizer(model, optimizer, lr), device, amp


def _learning_rates(optimizer) -> str:
    rates = sorted({group["lr"] for group in optimizer.param_groups})
    return ", ".join(f"{float(r):g}" for r in rates)


def _adam(params, lr: float) -> torch.optim.Optimizer:
    """``fit``'s default optimiser: Adam, with its fused step (one kernel per parameter instead
    of about a dozen; same update, differing from the loop form only in the last bits) where
    this torch and device support it, else the multi-tensor (``foreach``) step."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch, or a device without it
        return torch.optim.Adam(params, lr=lr, foreach=True)


def _train_epoch(model, loss_fn, train: Split, optimizer, *, epoch: int, batch_size: int,
                 generator, device, amp: bool) -> dict:
    """One pass over ``train``; returns ``{term: sum over the epoch's examples}`` (nats).

    Raises FloatingPointError at the first step whose batch-mean loss is NaN or infinite.
    """
    model.train()
    sums: dict = {}
    for step, (x, y) in enumerate(batches(train.x, train.y, batch_size=batch_size,
                                          generator=generator)):
        with _autocast(device, amp):
            terms = _as_terms(loss_fn(model, x, y))
        loss = terms["loss"].float().mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"the training loss became {loss.item()} at epoch {epoch + 1}, step {step + 1}. "
                f"Lower the learning rate (now {_learning_rates(optimizer)}), check the "
                "training split for NaN (torch.isnan(train.x).any()), or keep log-variances "
                "in a safe range; the model is left as it was at that step.")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + v.detach().float().sum()
    return sums


def _check_test_terms(terms: dict, epoch: int) -> None:
    bad = {k: v for k, v in terms.items() if not math.isfinite(v)}
    if bad:
        raise FloatingPointError(
            f"the test split gave non-finite loss terms {bad} after epoch {epoch + 1} (the "
            "training loss was finite): check the test split for NaN or inf "
            "(torch.isfinite(test.x).all()).")


def _record(history: History, sums: dict, test_terms: dict, seconds: float, n_train: int):
    history.seconds.append(seconds)
    for k, v in sums.items():
        history.train.setdefault(k, []).append(float(v) / n_train)
    for k, v in test_terms.items():
        history.test.setdefault(k, []).append(v)


def _summary(history: History, desc: str) -> str:
    total = sum(history.seconds)
    line = (f"{desc}: {history.epochs} epoch(s), {total:.1f} s "
            f"({total / history.epochs:.2f} s/epoch); final train loss "
            f"{history.train['loss'][-1]:.2f}")
    if history.test:
        line += f", test loss {history.test['loss'][-1]:.2f}"
    return line + " nats/example"


def fit(model, loss_fn, train: Split, test: Split | None = None, *, epochs: int,
        batch_size: int = 128, lr: float | None = None, optimizer=None, device=None, seed: int = 0,
        amp: bool | None = None, desc: str = "training", verbose: bool = False,
        on_epoch_end=None) -> History:
    """Train ``model`` with Adam (or ``optimizer``) on ``train``; evaluate on ``test`` each epoch.

    The whole split is moved to the device once and batched by slicing. The optimiser sees
    the batch mean of ``loss``; the history keeps per-example means in nats.

    Args:
        model: an ``nn.Module``; moved to ``device``.
        loss_fn: ``loss_fn(model, x, y) -> {"loss": (batch,), ...}`` (see module doc).
        train, test: :class:`course_utils.data.Split` (``x: (N, ...)``, ``y: (N,)``), not empty.
        epochs: passes over ``train``, a whole number >= 1.
        batch_size: examples per mini-batch.
        lr: Adam's learning rate, > 0 (default ``None``: 1e-3). With ``optimizer`` it must be
            left out or equal one of the optimiser's own rates (it is never ignored silently).
        optimizer: a ``torch.optim.Optimizer`` holding some of ``model``'s parameters at a
            learning rate > 0 (default: Adam on all of them).
        device: default :func:`course_utils.get_device`.
        seed: seeds the shuffling order, 0 to 2**64 - 1 (model noise uses torch's global RNG; call
            :func:`course_utils.seed_everything` first).
        amp: bfloat16 autocast on CUDA (default on there; never used on CPU/MPS).
        verbose: print one line per epoch (a ``tqdm`` bar is always shown unless
            ``TQDM_DISABLE=1``).
        on_epoch_end: optional ``callback(epoch, history)`` called after each epoch.
    Returns:
        :class:`History`. On Ctrl-C the model keeps its weights and the history holds the
        finished epochs (``history.interrupted`` is True).
    Raises:
        ValueError: an argument of the wrong type or range (``epochs`` not a whole number >= 1,
            an empty split, ``lr=0``, an optimiser that holds none of the model's parameters
            or trains them at rate 0, a seed outside 0 to 2**64 - 1, ...).
        FloatingPointError: the training loss became NaN or infinite (the message names the
            epoch, the step and the optimiser's learning rate), or a test term did (it names
            the test split). ``err.history`` holds the :class:`History` of the epochs that
            finished before it.
    """
    from tqdm.auto import tqdm

    optimizer, device, amp = _check_fit_args(model, loss_fn, train, test, epochs, batch_size, lr,
                                             optimizer, device, seed, amp, verbose, on_epoch_end)
    model.to(device)
    train = train.to(device)
    test = test.to(device) if test is not None else None
    generator = torch.Generator().manual_seed(seed)
    history = History()
    # tqdm.notebook ignores the TQDM_DISABLE variable that plain tqdm honours: read it here.
    quiet = os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")
    bar = tqdm(range(epochs), desc=desc, unit="epoch", disable=quiet)
    try:
        for epoch in bar:
            start = time.perf_counter()
            sums = _train_epoch(model, loss_fn, train, optimizer, epoch=epoch,
                                batch_size=batch_size, generator=generator, device=device,
                                amp=amp)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            # Evaluate before recording anything, so that a Ctrl-C during evaluation leaves
            # every record (train, test, seconds) covering the same finished epochs.
            test_terms = evaluate(model, loss_fn, test, amp=amp) if test is not None else {}
            _check_test_terms(test_terms, epoch)
            _record(history, sums, test_terms, seconds, len(train))
            line = f"train {history.train['loss'][-1]:.2f}"
            if test is not None:
                line += f", test {history.test['loss'][-1]:.2f}"
            bar.set_postfix_str(line + " nats/ex")
            if verbose:
                print(f"epoch {epoch + 1}/{epochs}: {line} nats/example ({seconds:.1f} s)")
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Interrupted: keeping the model and the history of {history.epochs} finished "
              f"epoch(s).")
    except FloatingPointError as err:
        err.history = history  # the finished epochs stay reachable: except ... as e: e.history
        raise
    finally:
        bar.close()
    if history.epochs:
        print(_summary(history, desc))
    return history
