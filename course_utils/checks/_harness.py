"""What every checker shares: the :class:`Checker`, the tolerance policy, the diagnosis.

The tolerance policy is documented in the package docstring (``course_utils.checks``):
:func:`answer_rtol` sets it, :func:`close` applies it and :func:`compare` prints the numbers.
"""
from __future__ import annotations

import contextlib
import inspect
import math

import numpy as np
import torch
import torch.nn.functional as F

from ..losses import LOG_2PI

__all__ = ["F64", "LOG_2PI", "Checker", "answer_rtol", "as_float64", "close", "compare",
           "diagnose", "as_tensor", "per_example", "number", "keeps_float32", "bce_reference",
           "kl_reference", "bernoulli_mistakes", "LARGE_LOGITS", "LARGE_TARGETS",
           "require_exact_for_large_logits", "require_stable_in_float32", "require_gradients",
           "require_graph", "NO_GRAPH"]

F64 = torch.float64


def answer_rtol(answer) -> float:
    """The relative tolerance for a learner's answer, from its dtype's machine epsilon.

    ``max(1e-6, min(1000 * eps, sqrt(eps)))``: a thousand units in the last place, at most
    half the digits, never tighter than 1e-6. ``answer``: a tensor, a NumPy number or array,
    or a Python number (treated as float64; integers and booleans too).
    """
    dtype = getattr(answer, "dtype", None)
    try:
        if isinstance(dtype, torch.dtype):
            eps = torch.finfo(dtype).eps
        else:
            eps = np.finfo(dtype).eps if dtype is not None else np.finfo(np.float64).eps
    except (TypeError, ValueError):  # integer or boolean answers are exact
        eps = np.finfo(np.float64).eps
    return max(1e-6, min(1000 * eps, math.sqrt(eps)))


def as_float64(value) -> torch.Tensor:
    """``value`` (tensor, array, number or list) as a float64 CPU tensor, detached."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", F64)
    return torch.as_tensor(np.asarray(value, dtype=np.float64))


def close(answer, reference, rtol: float | None = None) -> bool:
    """The tolerance policy: same shape and ``|a - r| <= rtol * (|r| + 1)`` everywhere."""
    rtol = answer_rtol(answer) if rtol is None else rtol
    a, r = as_float64(answer), as_float64(reference)
    return a.shape == r.shape and bool(((a - r).abs() <= rtol * (r.abs() + 1)).all())


def compare(answer, reference, limit: int = 8) -> str:
    """``got ..., expected ...`` with just enough significant digits to show the difference."""
    a, r = as_float64(answer).flatten().tolist(), as_float64(reference).flatten().tolist()
    digits = 4
    for x, y in zip(a, r):
        while digits < 17 and x != y and f"{x:.{digits}g}" == f"{y:.{digits}g}":
            digits += 1

    def text(values, bracket):
        shown = ", ".join(f"{v:.{digits}g}" for v in values[:limit])
        shown += ", ..." if len(values) > limit else ""
        return f"[{shown}]" if bracket else shown

    bracket = as_float64(answer).dim() > 0 or len(r) != 1   # a list unless both are scalars
    return f"got {text(a, bracket)}, expected {text(r, bracket)}"


class Checker:
    """One exercise's checks: its title, the steps passed, and the one line it prints.

    ``title`` starts every message; ``answer`` is the name of the learner's function or class
    (used in "implement `...` first"). Each check is a ``with c.step("what"):`` block; the
    steps that ran to the end are counted, and :meth:`passed` prints
    ``"<title>: <n>/<n> checks passed"``. :meth:`call` runs learner code.
    """

    def __init__(self, title: str, answer: str, errors=()):
        self.title, self.answer, self.steps = title, answer, []
        self.errors = list(errors)   # (clue, hint): this exercise's own library-error hints

    @contextlib.contextmanager
    def step(self, what: str):
        """One check: counted when its block ends without an ``AssertionError``."""
        __tracebackhide__ = True
        yield
        self.steps.append(what)

    def passed(self) -> None:
        n = len(self.steps)
        print(f"{self.title}: {n}/{n} checks passed")

    def fail(self, hint: str):
        __tracebackhide__ = True
        raise AssertionError(f"{self.title}: {hint}")

    def call(self, fn, *args, name: str | None = None, **kwargs):
        """``fn(*args, **kwargs)``, with learner errors turned into one-line hints.

        ``name``: what to call ``fn`` in messages (default: the checker's ``answer``). Tensor
        arguments must come back unchanged (no in-place update of the caller's data).
        """
        __tracebackhide__ = True
        name = name or self.answer
        before = [(i, a, a.detach().clone()) for i, a in enumerate(args)
                  if isinstance(a, torch.Tensor)]
        before += [(k, a, a.detach().clone()) for k, a in kwargs.items()
                   if isinstance(a, torch.Tensor)]
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError as err:
            hint = f" (hint: {err})" if str(err) else ""
            raise AssertionError(f"{self.title}: implement `{name}` first; it still raises "
                                 f"NotImplementedError{hint}.") from None
        except AssertionError:
            raise
        except Exception as err:  # the learner's bug: keep their traceback chained
            known = [f" ({hint})" for clue, hint in self.errors + _LIBRARY_ERRORS
                     if clue in str(err)]
            text = " ".join(str(err).split())                  # one line, at most 300 chars
            text = text if len(text) <= 300 else text[:297] + "..."
            raise AssertionError(f"{self.title}: calling `{name}` raised "
                                 f"{type(err).__name__}: {text}{''.join(known[:1])}") from err
        for key, arg, copy in before:
            if arg.shape != copy.shape or not torch.equal(arg.detach(), copy):
                self.fail(f"`{name}` changed its argument `{_argument_name(fn, key)}` in place "
                          "(an in-place op such as x -= m, x.mul_(...) or x[...] = ...); "
                          "compute new tensors (x - m) and leave the caller's data untouched.")
        return result


# Library errors whose message does not say what to change in the learner's code.
_LIBRARY_ERRORS = [
    ("support (Boolean())", "pixels are grey levels in [0, 1], outside a Bernoulli's support "
                            "{0, 1}, which torch.distributions checks: use "
                            "F.binary_cross_entropy_with_logits, or pass validate_args=False"),
    ("only one element tensors can be converted to Python scalars",
     "float() or .item() of a tensor with several values: keep it a tensor, torch operations "
     "broadcast it"),
    ("must match except in dimension 0",
     "torch.cat joins along dim=0, the batch, unless told otherwise: join features with "
     "torch.cat([...], dim=1)"),
]


def keeps_float32(c: Checker, out, what: str) -> None:
    """``out`` (a tensor, or a dict of them), computed from float32 inputs, must be float32."""
    __tracebackhide__ = True
    for key, t in (out.items() if isinstance(out, dict) else [("", out)]):
        t = as_tensor(c, t, f"{what}{f'[{key!r}]' if key else ''}")
        if t.dtype != torch.float32:
            c.fail(f"{what} returns {t.dtype} for float32 inputs: keep the inputs' dtype (no "
                   ".double() or float64 tensors); training runs in float32, float64 is slow "
                   "on most GPUs and unsupported on Apple's MPS.")


def _argument_name(fn, key) -> str:
    if isinstance(key, str):
        return key
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()]
        return names[key]
    except (TypeError, ValueError, IndexError):
        return f"argument {key + 1}"


def diagnose(c: Checker, got, want, what: str, *, summed_over: str, n: int,
             mistakes=(), otherwise: str):
    """Fail with the hint of the first known mistake that ``got`` matches, else ``otherwise``.

    Shared by every per-example term: first the mean instead of the sum over ``summed_over``
    (``n`` elements each), then the sign flipped, then ``mistakes``, (value, hint) pairs
    specific to the term (sigmoid applied twice, a factor 1/2 missing...).
    """
    __tracebackhide__ = True
    known = [(want / n, f"{what} is the mean over {summed_over}; sum over {summed_over} "
                        "(one total per example, in nats)."),
             (-want, f"{what} has the wrong sign: the loss terms are -log p(x|z) (the "
                     "negative log-likelihood) and +KL, as in the negative ELBO.")]
    for value, hint in [*known, *mistakes]:
        if close(got, value):
            c.fail(hint)
    c.fail(f"{otherwise} ({compare(got, want)}).")


def as_tensor(c: Checker, value, what: str) -> torch.Tensor:
    """``value`` itself if it is a tensor, else a hint naming ``what`` and its type."""
    __tracebackhide__ = True
    if isinstance(value, np.ndarray):
        c.fail(f"{what} must be a torch.Tensor, got a NumPy array: NumPy has no autograd, so "
               "a loss computed in NumPy trains nothing; compute it with torch operations.")
    if not isinstance(value, torch.Tensor):
        c.fail(f"{what} must be a torch.Tensor, got {type(value).__name__}.")
    return value


def per_example(c: Checker, value, what: str, batch: int) -> torch.Tensor:
    """Shape (batch,) and finite, or a hint about the reduction."""
    __tracebackhide__ = True
    value = as_tensor(c, value, what)
    if value.dim() == 0:
        c.fail(f"{what} is a single number; return one value per example, shape ({batch},): "
               "sum over pixels/latent dimensions, not over the batch.")
    if tuple(value.shape) != (batch,):
        c.fail(f"{what} has shape {tuple(value.shape)}, expected ({batch},): sum over every "
               "dimension except the batch, e.g. t.flatten(1).sum(1).")
    if not bool(torch.isfinite(value).all()):
        c.fail(f"{what} contains NaN or inf on ordinary inputs; look for log(0), exp overflow "
               "or a division by zero.")
    return value


def number(c: Checker, value, what: str) -> torch.Tensor:
    """A learner's scalar as a 0-dim tensor that keeps its dtype (for the tolerance policy)."""
    __tracebackhide__ = True
    kind = type(value).__name__
    if isinstance(value, (bool, np.bool_)):
        value = None
    elif isinstance(value, (int, float)):
        value = torch.tensor(float(value), dtype=F64)
    elif isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        value = value.detach().reshape(())
    elif isinstance(value, (np.ndarray, np.generic)) and value.size == 1 \
            and value.dtype.kind in "fiu":
        value = torch.as_tensor(np.asarray(value)).reshape(())
    else:
        value = None
    if value is None:
        c.fail(f"{what} must return a number, got {kind}.")
    if not bool(torch.isfinite(value)):
        c.fail(f"{what} returned {value.item()}; it must be a finite number.")
    return value


# ----------------------------------------------------------------------------------------
# Shared by the two Bernoulli terms (β-VAE's recon, MSE vs BCE's bernoulli_recon)
# ----------------------------------------------------------------------------------------

def bce_reference(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log Bernoulli(x | sigmoid(logits)) per example, written with log-sigmoids."""
    log_p = x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)
    return -log_p.flatten(1).sum(1)


def kl_reference(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per example, from torch.distributions."""
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(1)


def bernoulli_mistakes(logits, x, what):
    """(value, hint) pairs of the Bernoulli term's own mistakes, for :func:`diagnose`."""
    return [(bce_reference(torch.sigmoid(logits), x),
             f"{what} applies the sigmoid twice: the decoder output is logits already."),
            (bce_reference(logits, 1 - x),
             f"{what} swaps x and 1 - x: x * log(p) + (1 - x) * log(1 - p) with "
             "p = sigmoid(logits)."),
            (bce_reference(x, logits),
             f"{what} passes the arguments in the wrong order: "
             "F.binary_cross_entropy_with_logits(logits, x) takes the logits first, then the "
             "target x.")]


def require_graph(c: Checker, got, what: str, inputs: str) -> None:
    """``got``, computed from ``inputs`` (their names) that require grad, carries a gradient."""
    __tracebackhide__ = True
    if isinstance(got, torch.Tensor) and not got.requires_grad:
        c.fail(f"no gradient flows back from {what} to {inputs}: {NO_GRAPH}.")


# Large logits, where log(sigmoid(.)) rounds to log(0) or loses its digits: the answer must be
# computed from the logits (F.binary_cross_entropy_with_logits, F.logsigmoid).
LARGE_LOGITS = torch.tensor([[30.0, -30.0, 100.0, -100.0, 45.0, 500.0]], dtype=F64)
LARGE_TARGETS = torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0, 0.25]], dtype=F64)


def require_exact_for_large_logits(c: Checker, got, what: str):
    """Check a recon term on ``LARGE_LOGITS`` (shape (1, 1, 2, 3)): finite and exact."""
    __tracebackhide__ = True
    got = as_tensor(c, got, what)
    want = bce_reference(LARGE_LOGITS.view(1, 1, 2, 3), LARGE_TARGETS.view(1, 1, 2, 3))
    where = "large logits (|logit| = 30, 45, 100, 500, where sigmoid rounds to 0 or 1)"
    if not bool(torch.isfinite(got).all()):
        c.fail(f"{what} is NaN/inf for {where}: log(0) = -inf. Compute from the logits: "
               "F.binary_cross_entropy_with_logits or F.logsigmoid.")
    if not close(got, want):
        c.fail(f"{what} is inexact for {where}: {compare(got, want)} nats; probabilities lose "
               "these digits (and clamping them changes the value). Compute from the logits: "
               "F.binary_cross_entropy_with_logits or F.logsigmoid.")


# The logits of ``require_stable_in_float32``: |logit| = 100, where exp(logit) overflows in
# float32 (its largest value is about 3.4e38 = exp(88.7)), so log1p(exp(l)) becomes inf.
FLOAT32_LOGITS = torch.tensor([[100.0, -100.0, 100.0, -100.0, 60.0, -95.0]])
FLOAT32_TARGETS = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.5, 0.25]])


def require_stable_in_float32(c: Checker, term, what: str):
    """``term(logits, x)`` (shape (1, 1, 2, 3), float32, logits of ±100): finite, exact, with
    the gradient ``sigmoid(logits) - x``. ``term`` returns the learner's Bernoulli term."""
    __tracebackhide__ = True
    logits = FLOAT32_LOGITS.view(1, 1, 2, 3).clone().requires_grad_(True)
    x = FLOAT32_TARGETS.view(1, 1, 2, 3)
    with torch.enable_grad():
        got = as_tensor(c, term(logits.clone(), x.clone()), what)   # a clone: in-place ops allowed
    want = bce_reference(FLOAT32_LOGITS.to(F64), FLOAT32_TARGETS.to(F64))
    where = "float32 logits of ±100"
    softplus = ("write log(1 + exp(l)) as F.softplus(l), or use "
                "F.binary_cross_entropy_with_logits(logits, x, reduction='none')")
    if not bool(torch.isfinite(got.detach()).all()):
        c.fail(f"{what} overflows for {where}: exp(100) is inf in float32, so "
               f"log1p(exp(l)) or log(1 + exp(l)) is inf; {softplus}.")
    if not close(got, want.view(got.shape) if got.numel() == want.numel() else want):
        c.fail(f"{what} is inexact for {where} ({compare(got, want)}); {softplus}.")
    if not got.requires_grad:
        return                                      # the gradient step says what is wrong
    (grad,) = torch.autograd.grad(got.sum(), logits, allow_unused=True)
    if grad is None:
        return
    if not bool(torch.isfinite(grad).all()):
        c.fail(f"the gradient of {what} is NaN or inf for {where}, although the value is "
               "finite: a torch.where (or mask) whose unused branch overflows (exp(100) = inf) "
               f"still poisons the gradient; {softplus}.")
    if not close(grad, torch.sigmoid(logits.detach()) - x):
        c.fail(f"the gradient of {what} for {where} is not sigmoid(logits) - x "
               f"({compare(grad, torch.sigmoid(logits.detach()) - x)}); {softplus}.")


NO_GRAPH = ("it was cut from the autograd graph (.item(), float(), .detach(), .numpy() or "
            "torch.tensor(...) of a computed value, or torch.no_grad()); a loss built that way "
            "has the right value and trains nothing. Build it with torch operations on the "
            "inputs")


def require_gradients(c: Checker, got, want, inputs: dict, ref_inputs: dict, what: str,
                      seed: int = 7) -> None:
    """Autograd's gradient of ``got`` must be the reference's, for every input in ``inputs``.

    ``got``: the learner's tensor, computed from the leaves ``inputs`` (name -> leaf that
    requires grad); ``want``: the reference, computed from ``ref_inputs`` (same names, same
    values, their own leaves). Both are reduced with the same random weights, so that every
    element's gradient counts. Fails with a hint naming the input whose gradient is missing
    or wrong.
    """
    __tracebackhide__ = True
    got = as_tensor(c, got, what)
    if not got.requires_grad:
        c.fail(f"no gradient flows back from {what}: {NO_GRAPH}.")
    g = torch.Generator().manual_seed(seed)
    weights = torch.rand(want.shape, generator=g, dtype=F64) + 0.5
    names = list(inputs)
    got_grads = torch.autograd.grad((got * weights.to(got)).sum(),
                                    [inputs[k] for k in names], allow_unused=True)
    want_grads = torch.autograd.grad((want * weights.to(want)).sum(),
                                     [ref_inputs[k] for k in names], allow_unused=True)
    for name, mine, ref in zip(names, got_grads, want_grads):
        ref = torch.zeros_like(ref_inputs[name]) if ref is None else ref
        if close(ref, torch.zeros_like(ref), rtol=1e-12):
            continue                                   # nothing is expected to flow there
        if mine is None or close(mine, torch.zeros_like(mine), rtol=1e-12):
            c.fail(f"no gradient reaches `{name}` through {what}, although its value is "
                   f"right: `{name}` is detached somewhere in the formula (.detach(), .data, "
                   "float(), .item(), NumPy or a copy with torch.tensor(...)); keep it a tensor "
                   "and use torch operations on it directly.")
        if not close(mine, ref, rtol=answer_rtol(got)):
            c.fail(f"{what} has the right value but the wrong gradient with respect to "
                   f"`{name}` ({compare(mine, ref)}): part of the formula is detached or "
                   "replaced by a constant; build every term from the inputs with torch "
                   "operations.")
