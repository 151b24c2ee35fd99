"""Answer checkers for the exercises (``exercises/*.ipynb``).

Each ``check_*`` function takes the learner's function (or class), runs it on small inputs
whose right answer is known in closed form or from an independent reference
(``torch.distributions``, hand-computed values), and then either

* prints one fixed line, e.g. ``β-VAE loss: 5/5 checks passed``, or
* raises ``AssertionError`` with a one-line hint naming the likely mistake (mean instead
  of sum, β on the wrong term, KL sign flipped, label ignored, schedule off by one...).

A stub that still raises ``NotImplementedError`` gives an ``AssertionError`` that says
which function to implement. Loss checks use ``float64`` inputs, so a right answer matches
the reference to ~1e-9 and a wrong one cannot pass by rounding luck.
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

__all__ = ["check_beta_vae_loss", "check_cvae", "check_linear_schedule",
           "check_cyclical_schedule", "check_gaussian_recon", "check_bernoulli_recon"]

F64 = torch.float64
LOG_2PI = math.log(2 * math.pi)


class _Checker:
    """Counts passed checks and turns learner errors into one-line hints."""

    def __init__(self, title: str, name: str):
        self.title, self.name, self.passed = title, name, 0

    def call(self, fn, *args, **kwargs):
        __tracebackhide__ = True
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as err:
            hint = f" (hint: {err})" if str(err) else ""
            raise AssertionError(f"{self.title}: implement `{self.name}` first; it still raises "
                                 f"NotImplementedError{hint}.") from None
        except AssertionError:
            raise
        except Exception as err:  # the learner's bug: keep their traceback chained
            raise AssertionError(f"{self.title}: calling `{self.name}` raised "
                                 f"{type(err).__name__}: {err}") from err

    def fail(self, hint: str):
        raise AssertionError(f"{self.title}: {hint}")

    def ok(self):
        self.passed += 1

    def done(self, total: int):
        assert self.passed == total, f"internal error: {self.passed} of {total} checks counted"
        print(f"{self.title}: {total}/{total} checks passed")


def _close(a, b, rtol=1e-6, atol=1e-8) -> bool:
    a = torch.as_tensor(a).detach().to(F64)
    b = torch.as_tensor(b).detach().to(F64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def _as_tensor(c: _Checker, value, what: str) -> torch.Tensor:
    __tracebackhide__ = True
    if not isinstance(value, torch.Tensor):
        c.fail(f"{what} must be a torch.Tensor, got {type(value).__name__}.")
    return value


def _per_example(c: _Checker, value, what: str, batch: int) -> torch.Tensor:
    """Shape (batch,) and finite, or a hint about the reduction."""
    __tracebackhide__ = True
    value = _as_tensor(c, value, what)
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


def _number(c: _Checker, value, what: str) -> float:
    __tracebackhide__ = True
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        c.fail(f"{what} must return a number, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        c.fail(f"{what} returned {value}; it must be a finite number.")
    return value


# ----------------------------------------------------------------------------------------
# Exercise: β-VAE
# ----------------------------------------------------------------------------------------

def _bce_reference(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log Bernoulli(x | sigmoid(logits)) per example, written with log-sigmoids."""
    log_p = x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)
    return -log_p.flatten(1).sum(1)


def _kl_reference(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per example, from torch.distributions."""
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(1)


def check_beta_vae_loss(fn) -> None:
    """Check ``fn(logits, x, mu, logvar, beta) -> {"loss", "recon", "kl"}``.

    Expected: ``recon`` = Bernoulli negative log-likelihood from logits, summed over pixels;
    ``kl`` = KL(q(z|x) || N(0, I)), summed over latent dimensions; ``loss = recon + beta * kl``;
    each ``(batch,)`` in nats. Checked on ``float64`` inputs (batch 3, 6 pixels, 4 latents)
    for several β. Prints ``β-VAE loss: 5/5 checks passed`` or raises ``AssertionError``.
    """
    c = _Checker("β-VAE loss", "beta_vae_loss")
    __tracebackhide__ = True  # IPython shows the learner\'s cell and the hint, not this frame
    g = torch.Generator().manual_seed(0)
    batch, latent, pixels = 3, 4, 6
    x = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)
    logits = 2 * torch.randn(batch, 1, 2, 3, generator=g, dtype=F64)
    mu = torch.randn(batch, latent, generator=g, dtype=F64)
    logvar = 0.7 * torch.randn(batch, latent, generator=g, dtype=F64)
    recon_ref, kl_ref = _bce_reference(logits, x), _kl_reference(mu, logvar)

    out = c.call(fn, logits.clone(), x.clone(), mu.clone(), logvar.clone(), 2.0)
    if not isinstance(out, dict) or not {"loss", "recon", "kl"} <= set(out):
        got = sorted(out) if isinstance(out, dict) else type(out).__name__
        c.fail(f"return a dict with keys 'loss', 'recon' and 'kl' (got {got}).")
    c.ok()                                                          # 1: the dict
    recon = _per_example(c, out["recon"], "out['recon']", batch)
    kl = _per_example(c, out["kl"], "out['kl']", batch)
    _per_example(c, out["loss"], "out['loss']", batch)
    c.ok()                                                          # 2: shapes, finite
    if not _close(recon, recon_ref):
        if _close(recon, recon_ref / pixels):
            c.fail("recon is the mean over pixels; sum over pixels (nats per image).")
        if _close(recon, -recon_ref):
            c.fail("recon has the wrong sign: it is -log p(x|z), a positive number.")
        if _close(recon, _bce_reference(torch.sigmoid(logits), x)):
            c.fail("recon applies the sigmoid twice: the decoder output is already logits.")
        c.fail("recon is not the Bernoulli negative log-likelihood: use "
               "F.binary_cross_entropy_with_logits(logits, x, reduction='none') summed over pixels.")
    c.ok()                                                          # 3: reconstruction
    if not _close(kl, kl_ref):
        if _close(kl, -kl_ref):
            c.fail("KL sign flipped: KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) >= 0.")
        if _close(kl, kl_ref / latent):
            c.fail("kl is the mean over latent dimensions; sum over them.")
        if _close(kl, 2 * kl_ref):
            c.fail("kl is twice too large: the closed form has a factor 1/2.")
        if _close(kl, -0.5 * (1 + 2 * logvar - mu**2 - logvar.exp() ** 2).sum(1)):
            c.fail("kl treats logvar as log(sigma); it is log(sigma^2), so sigma^2 = exp(logvar).")
        c.fail("kl does not match KL(N(mu, exp(logvar)) || N(0, I)) = "
               "-1/2 * sum(1 + logvar - mu^2 - exp(logvar)).")
    if bool((kl < 0).any()):
        c.fail("kl is negative somewhere; a KL divergence is never negative.")
    c.ok()                                                          # 4: KL
    for beta in (0.0, 0.5, 4.0):
        out = c.call(fn, logits.clone(), x.clone(), mu.clone(), logvar.clone(), beta)
        loss = _per_example(c, out["loss"], "out['loss']", batch)
        if _close(loss, recon_ref + beta * kl_ref):
            continue
        if _close(loss, recon_ref + kl_ref):
            c.fail(f"beta is ignored: with beta={beta} the loss must be recon + beta * kl.")
        if _close(loss, beta * recon_ref + kl_ref):
            c.fail("beta is applied to the reconstruction term; it weights the KL: "
                   "recon + beta * kl.")
        if _close(loss, recon_ref - beta * kl_ref):
            c.fail("the KL is subtracted; the loss (negative ELBO) is recon + beta * kl.")
        c.fail(f"with beta={beta} the loss is not recon + beta * kl.")
    c.ok()                                                          # 5: β weighting
    c.done(5)


# ----------------------------------------------------------------------------------------
# Exercise: conditional VAE
# ----------------------------------------------------------------------------------------

def check_cvae(cls) -> None:
    """Check a conditional VAE class ``cls(latent_dim=, num_classes=, hidden_dim=)``.

    Expected interface (images ``x: (batch, 1, 28, 28)`` in [0, 1], labels ``y: (batch,)``
    int64): ``encode(x, y) -> (mu, logvar)`` each ``(batch, latent_dim)``;
    ``decode(z, y) -> logits (batch, 1, 28, 28)``; ``forward(x, y) -> (logits, mu, logvar)``
    with z *sampled*. Both networks must use each example's own label. Checked in float32
    on a small network. Prints ``Conditional VAE: 5/5 checks passed`` or raises
    ``AssertionError``.
    """
    c = _Checker("Conditional VAE", "CVAE")
    __tracebackhide__ = True  # IPython shows the learner\'s cell and the hint, not this frame
    latent, batch = 3, 4
    torch.manual_seed(0)
    model = c.call(cls, latent_dim=latent, num_classes=10, hidden_dim=32)
    if not isinstance(model, torch.nn.Module):
        c.fail("CVAE must subclass torch.nn.Module (and call super().__init__()).")
    if not list(model.parameters()):
        c.fail("CVAE has no parameters: create its layers in __init__ with nn.Linear.")
    model.eval()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch, 1, 28, 28, generator=g)
    y = torch.tensor([0, 3, 7, 9])
    y_other = torch.tensor([5, 3, 2, 1])                    # example 1 keeps its label
    c.ok()                                                          # 1: constructs
    with torch.no_grad():
        c.name = "CVAE.encode"
        enc = c.call(model.encode, x, y)
        if not isinstance(enc, (tuple, list)) or len(enc) != 2:
            c.fail("encode(x, y) must return a pair (mu, logvar).")
        mu, logvar = enc
        for name, t in (("mu", mu), ("logvar", logvar)):
            t = _as_tensor(c, t, f"encode's {name}")
            if tuple(t.shape) != (batch, latent):
                c.fail(f"encode's {name} has shape {tuple(t.shape)}, expected ({batch}, {latent}) "
                       "= (batch, latent_dim).")
            if not bool(torch.isfinite(t).all()):
                c.fail(f"encode's {name} contains NaN or inf.")
        c.ok()                                                      # 2: encoder shapes
        mu2, logvar2 = c.call(model.encode, x, y_other)
        if _close(mu, mu2) and _close(logvar, logvar2):
            c.fail("the encoder ignores the label: concatenate one_hot(y, num_classes) to the "
                   "flattened image before the first layer.")
        if not (_close(mu[1], mu2[1]) and _close(logvar[1], logvar2[1])):
            c.fail("the encoder mixes examples: example i must see only its own label y[i].")
        c.ok()                                                      # 3: encoder uses y
        z = torch.randn(batch, latent, generator=g)
        c.name = "CVAE.decode"
        logits = _as_tensor(c, c.call(model.decode, z, y), "decode(z, y)")
        if tuple(logits.shape) != (batch, 1, 28, 28):
            c.fail(f"decode(z, y) returned shape {tuple(logits.shape)}, expected ({batch}, 1, 28, 28): "
                   "reshape with .view(-1, 1, 28, 28).")
        if not bool(torch.isfinite(logits).all()):
            c.fail("decode(z, y) returned NaN or inf.")
        logits2 = c.call(model.decode, z, y_other)
        if _close(logits, logits2):
            c.fail("the decoder ignores the label: concatenate one_hot(y, num_classes) to z.")
        if not _close(logits[1], logits2[1]):
            c.fail("the decoder mixes examples: example i must see only its own label y[i].")
        c.ok()                                                      # 4: decoder uses y
        torch.manual_seed(2)
        c.name = "CVAE.forward"
        out = c.call(model, x, y)
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            c.fail("forward(x, y) must return (logits, mu, logvar).")
        if not (_close(out[1], mu) and _close(out[2], logvar)):
            c.fail("forward's mu and logvar differ from encode(x, y); return the encoder's output.")
        if tuple(out[0].shape) != (batch, 1, 28, 28):
            c.fail(f"forward's logits have shape {tuple(out[0].shape)}, expected ({batch}, 1, 28, 28).")
        torch.manual_seed(3)
        again = c.call(model, x, y)
        if _close(out[0], again[0]):
            c.fail("forward returns the same logits on every call: sample "
                   "z = mu + exp(logvar / 2) * torch.randn_like(mu) instead of decoding mu.")
        if _close(out[0], c.call(model.decode, mu, y)):
            c.fail("forward decodes mu: sample z = mu + exp(logvar / 2) * eps first.")
        c.ok()                                                      # 5: forward samples
    c.done(5)


# ----------------------------------------------------------------------------------------
# Exercise: KL annealing
# ----------------------------------------------------------------------------------------

def _linear_reference(step: int, warmup_steps: int) -> float:
    return 1.0 if warmup_steps == 0 else min(1.0, step / warmup_steps)


def _cyclical_reference(step: int, cycle_steps: int, ratio: float) -> float:
    return min(1.0, (step % cycle_steps) / (ratio * cycle_steps))


def _check_unit_interval_from_zero(c, values, off_by_one, off_by_one_hint):
    """Checks 1 and 2 of both schedule checkers: every weight in [0, 1], and 0 at step 0."""
    __tracebackhide__ = True
    if any(not 0.0 <= v <= 1.0 for v in values):
        c.fail(f"the weight must stay in [0, 1]; got {max(values, key=abs):g} "
               "(cap it with min(1.0, ...)).")
    c.ok()                                                          # 1: a number in [0, 1]
    if values[0] != 0.0:
        if math.isclose(values[0], off_by_one):
            c.fail(off_by_one_hint)
        c.fail(f"at step 0 the weight must be 0, got {values[0]:g}.")
    c.ok()                                                          # 2: starts at 0


def check_linear_schedule(fn) -> None:
    """Check ``fn(step, warmup_steps) -> beta``: ``min(1, step / warmup_steps)``.

    ``step`` counts optimiser steps from 0, so β is 0 at the first step, reaches 1 at
    ``step == warmup_steps`` and stays there; ``warmup_steps == 0`` means no annealing
    (β = 1). Prints ``linear schedule: 5/5 checks passed`` or raises ``AssertionError``.
    """
    c = _Checker("linear schedule", "linear_schedule")
    __tracebackhide__ = True  # IPython shows the learner\'s cell and the hint, not this frame

    def beta(step, warmup):
        __tracebackhide__ = True
        return _number(c, c.call(fn, step, warmup), f"linear_schedule({step}, {warmup})")

    values = []
    for step in range(31):
        values.append(beta(step, 10))
    _check_unit_interval_from_zero(
        c, values, off_by_one=1 / 10,
        off_by_one_hint="off by one: at step 0 the weight must be 0; use step / warmup_steps "
                        "with steps counted from 0, not (step + 1) / warmup_steps.")
    for step, warmup in ((5, 10), (3, 12), (7, 8)):
        got, want = beta(step, warmup), step / warmup
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        if got == 0.0:
            c.fail(f"linear_schedule({step}, {warmup}) is 0; integer division? "
                   "Use step / warmup_steps (true division).")
        if math.isclose(got, (step + 1) / warmup):
            c.fail("off by one: use step / warmup_steps, not (step + 1) / warmup_steps.")
        if math.isclose(got, step / (warmup - 1)) or math.isclose(got, step / (warmup + 1)):
            c.fail("off by one: divide by warmup_steps itself.")
        c.fail(f"linear_schedule({step}, {warmup}) should be {want:g}, got {got:g}.")
    c.ok()                                                          # 3: linear ramp
    for step, warmup in ((10, 10), (11, 10), (1000, 10)):
        got = beta(step, warmup)
        if got != 1.0:
            c.fail(f"linear_schedule({step}, {warmup}) should be 1 (the ramp is over), got {got:g}: "
                   "use min(1.0, step / warmup_steps).")
    c.ok()                                                          # 4: reaches 1, stays
    try:
        got = beta(0, 0)
    except AssertionError as err:
        if "ZeroDivisionError" in str(err):
            c.fail("warmup_steps=0 means no annealing: return 1.0 instead of dividing by zero.")
        raise
    if got != 1.0:
        c.fail(f"warmup_steps=0 means no annealing: the weight must be 1, got {got:g}.")
    c.ok()                                                          # 5: no warm-up
    c.done(5)


def check_cyclical_schedule(fn) -> None:
    """Check ``fn(step, cycle_steps, ratio=0.5) -> beta`` (Fu et al., 2019).

    Within each cycle of ``cycle_steps`` optimiser steps (counted from 0), β rises linearly
    from 0 to 1 over the first ``ratio * cycle_steps`` steps, then stays at 1; the next
    cycle starts again at 0: ``min(1, (step % cycle_steps) / (ratio * cycle_steps))``.
    Prints ``cyclical schedule: 5/5 checks passed`` or raises ``AssertionError``.
    """
    c = _Checker("cyclical schedule", "cyclical_schedule")
    __tracebackhide__ = True  # IPython shows the learner\'s cell and the hint, not this frame

    def beta(step, cycle, ratio=0.5):
        __tracebackhide__ = True
        return _number(c, c.call(fn, step, cycle, ratio),
                       f"cyclical_schedule({step}, {cycle}, {ratio})")

    values = []
    for step in range(40):
        values.append(beta(step, 8))
    _check_unit_interval_from_zero(
        c, values, off_by_one=1 / 4,
        off_by_one_hint="off by one: at step 0 the weight must be 0; count steps from 0.")
    if not (math.isclose(values[2], 0.5) and values[4] == 1.0 and values[7] == 1.0):
        if values[4] < 1.0 and math.isclose(values[4], 0.5):
            c.fail("the ramp takes the whole cycle; it must reach 1 after ratio * cycle_steps "
                   "steps: divide by ratio * cycle_steps.")
        c.fail(f"with cycle_steps=8, ratio=0.5 the weights at steps 0..7 should be "
               f"0, 0.25, 0.5, 0.75, 1, 1, 1, 1; got {[round(v, 3) for v in values[:8]]}.")
    c.ok()                                                          # 3: one cycle's shape
    if values[8] != 0.0 or not math.isclose(values[10], 0.5):
        if values[8] == 1.0:
            c.fail("the schedule never restarts: use step % cycle_steps so that every cycle "
                   "starts again at 0.")
        c.fail(f"each cycle must restart at 0: step 8 should give 0 and step 10 give 0.5 "
               f"(cycle_steps=8), got {values[8]:g} and {values[10]:g}.")
    c.ok()                                                          # 4: restarts
    for cycle, ratio in ((10, 0.25), (10, 0.8), (7, 1.0)):
        for step in range(3 * cycle):
            got, want = beta(step, cycle, ratio), _cyclical_reference(step, cycle, ratio)
            if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                if math.isclose(got, _cyclical_reference(step, cycle, 0.5)):
                    c.fail("ratio is ignored: the ramp must last ratio * cycle_steps steps.")
                c.fail(f"cyclical_schedule({step}, {cycle}, {ratio}) should be {want:g}, "
                       f"got {got:g}.")
    c.ok()                                                          # 5: other ratios
    c.done(5)


# ----------------------------------------------------------------------------------------
# Exercise: MSE vs BCE
# ----------------------------------------------------------------------------------------

def check_gaussian_recon(fn) -> None:
    """Check ``fn(mean, x, log_sigma) -> (batch,)``: ``-log N(x | mean, sigma^2 I)`` in nats.

    Per pixel ``0.5 * ((x - mean) / sigma)**2 + log_sigma + 0.5 * log(2 pi)``, summed over
    pixels, compared with ``torch.distributions.Normal``; ``log_sigma`` may be a float or a
    tensor that broadcasts (and must keep its gradient, for a learned σ). Prints
    ``Gaussian reconstruction: 5/5 checks passed`` or raises ``AssertionError``.
    """
    c = _Checker("Gaussian reconstruction", "gaussian_recon")
    __tracebackhide__ = True  # IPython shows the learner\'s cell and the hint, not this frame
    g = torch.Generator().manual_seed(0)
    batch, pixels = 3, 6
    x = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)
    mean = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)

    def reference(log_sigma):
        sigma = torch.exp(torch.as_tensor(log_sigma, dtype=F64)).expand_as(mean)
        return -torch.distributions.Normal(mean, sigma).log_prob(x).flatten(1).sum(1)

    log_sigma = -1.2
    got = _per_example(c, c.call(fn, mean.clone(), x.clone(), log_sigma), "gaussian_recon(...)",
                       batch)
    c.ok()                                                          # 1: shape, finite
    ref = reference(log_sigma)
    if not _close(got, ref):
        sq = ((x - mean) ** 2).flatten(1).sum(1)
        sigma = math.exp(log_sigma)
        const = pixels * (log_sigma + 0.5 * LOG_2PI)
        if _close(got, ref / pixels):
            c.fail("the mean over pixels; sum over pixels (nats per image).")
        if _close(got, -ref):
            c.fail("sign flipped: return -log p(x|z), the negative log-likelihood.")
        if _close(got, ref - const) or _close(got, ref - pixels * 0.5 * LOG_2PI):
            c.fail("the normalising constant is missing: add log_sigma + 0.5 * log(2 pi) per "
                   "pixel (it matters once sigma is learned, and for nats).")
        if _close(got, sq / sigma**2 + const):
            c.fail("the squared error needs a factor 1/2: 0.5 * ((x - mean) / sigma)^2.")
        if _close(got, 0.5 * sq / sigma + const):
            c.fail("divide the squared error by sigma^2, not sigma.")
        if _close(got, 0.5 * sq / log_sigma**2 + pixels * (math.log(abs(log_sigma))
                                                            + 0.5 * LOG_2PI)):
            c.fail("log_sigma is used as sigma; sigma = exp(log_sigma).")
        c.fail("does not match -log N(x | mean, sigma^2): per pixel "
               "0.5 * ((x - mean) / sigma)^2 + log_sigma + 0.5 * log(2 pi), summed.")
    c.ok()                                                          # 2: value
    for ls in (0.0, 0.7, -3.0):
        got = _per_example(c, c.call(fn, mean.clone(), x.clone(), ls), "gaussian_recon(...)", batch)
        if not _close(got, reference(ls)):
            c.fail(f"wrong value for log_sigma={ls} (it is right for -1.2); is a sigma hard-coded?")
    c.ok()                                                          # 3: other sigmas
    per_pixel = 0.3 * torch.randn(1, 1, 2, 3, generator=g, dtype=F64)
    got = _per_example(c, c.call(fn, mean.clone(), x.clone(), per_pixel.clone()),
                       "gaussian_recon(...) with a per-pixel log_sigma", batch)
    if not _close(got, reference(per_pixel)):
        c.fail("wrong for a tensor log_sigma of shape (1, 1, 2, 3): let it broadcast "
               "against mean (don't call float() on it).")
    c.ok()                                                          # 4: broadcasting
    learned = torch.tensor(-0.5, dtype=F64, requires_grad=True)
    got = c.call(fn, mean.clone(), x.clone(), learned)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        c.fail("no gradient reaches log_sigma: keep it a tensor (no float()/item()) so a "
               "learned sigma can be trained.")
    got.sum().backward()
    probe = torch.tensor(-0.5, dtype=F64, requires_grad=True)
    want = torch.autograd.grad(reference(probe).sum(), probe)[0]
    if learned.grad is None or not _close(learned.grad, want):
        c.fail("the gradient with respect to log_sigma is wrong; build the loss from "
               "log_sigma with torch operations.")
    c.ok()                                                          # 5: gradient
    c.done(5)


def check_bernoulli_recon(fn) -> None:
    """Check ``fn(logits, x) -> (batch,)``: ``-log Bernoulli(x | sigmoid(logits))`` in nats.

    Summed over pixels, computed from logits so that it stays exact for large |logits|
    (|logit| = 50 and 500 are tested, where ``log(sigmoid(.))`` underflows). ``x`` may be
    grey levels in [0, 1]. Prints ``Bernoulli reconstruction: 5/5 checks passed`` or
    raises ``AssertionError``.
    """
    c = _Checker("Bernoulli reconstruction", "bernoulli_recon")
    __tracebackhide__ = True  # IPython shows the learner\'s cell and the hint, not this frame
    g = torch.Generator().manual_seed(0)
    batch, pixels = 3, 6
    x = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)
    logits = 2 * torch.randn(batch, 1, 2, 3, generator=g, dtype=F64)
    got = _per_example(c, c.call(fn, logits.clone(), x.clone()), "bernoulli_recon(...)", batch)
    c.ok()                                                          # 1: shape, finite
    ref = _bce_reference(logits, x)
    if not _close(got, ref):
        if _close(got, ref / pixels):
            c.fail("the mean over pixels; sum over pixels (nats per image).")
        if _close(got, -ref):
            c.fail("sign flipped: return -log p(x|z), a positive number.")
        if _close(got, _bce_reference(torch.sigmoid(logits), x)):
            c.fail("the sigmoid is applied twice: the input is logits already.")
        if _close(got, _bce_reference(logits, 1 - x)):
            c.fail("x and 1 - x are swapped: x * log(p) + (1 - x) * log(1 - p) with p = sigmoid(logits).")
        c.fail("does not match the binary cross-entropy from logits, summed over pixels.")
    c.ok()                                                          # 2: value
    binary = (x > 0.5).to(F64)
    got = _per_example(c, c.call(fn, logits.clone(), binary.clone()), "bernoulli_recon(...)", batch)
    if not _close(got, _bce_reference(logits, binary)):
        c.fail("wrong for binary targets (0/1 pixels).")
    c.ok()                                                          # 3: binary targets
    extreme = torch.tensor([[50.0, -50.0, 500.0, -500.0, 0.0, 30.0]], dtype=F64).view(1, 1, 2, 3)
    target = torch.tensor([[0.0, 1.0, 0.0, 1.0, 1.0, 1.0]], dtype=F64).view(1, 1, 2, 3)
    got = c.call(fn, extreme.clone(), target.clone())
    got = _as_tensor(c, got, "bernoulli_recon(...)")
    want = _bce_reference(extreme, target)
    if not bool(torch.isfinite(got).all()):
        c.fail("NaN/inf for large logits (|logit| = 50, 500): sigmoid rounds to exactly 0 or 1 "
               "and log(0) = -inf. Use F.binary_cross_entropy_with_logits or F.logsigmoid.")
    if not _close(got, want, rtol=1e-6):
        c.fail(f"inexact for large logits (|logit| = 50, 500): got {got.flatten().tolist()} nats, "
               f"expected {want.flatten().tolist()}; clamping probabilities loses this. Compute "
               "from logits: F.binary_cross_entropy_with_logits or F.logsigmoid.")
    c.ok()                                                          # 4: numerically stable
    leaf = logits.clone().requires_grad_(True)
    out = c.call(fn, leaf, x.clone())
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        c.fail("no gradient reaches the logits: build the loss with torch operations.")
    out.sum().backward()
    if not _close(leaf.grad, torch.sigmoid(logits) - x):
        c.fail("the gradient with respect to the logits should be sigmoid(logits) - x.")
    c.ok()                                                          # 5: gradient
    c.done(5)
