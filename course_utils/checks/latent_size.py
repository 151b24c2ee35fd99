"""Checkers for the latent-size exercise: rate and distortion, and the active units.

:func:`check_rate_distortion` runs the learner's ``rate_distortion(model, x)`` on a small
VAE whose encoder and decoder are fixed linear maps in float64 (6 pixels, 3 latent
dimensions) and which records every ``z`` it decodes. The KL has a closed form, and the
Bernoulli negative log-likelihood at the ``z`` the learner actually decoded is computed
exactly, so both numbers are compared under the package's tolerance policy; only the check
that ``z`` is a proper draw from ``q(z|x)`` is statistical (bounds below).
:func:`check_active_units` feeds hand-made posterior means whose per-dimension variances
are known exactly and straddle the threshold.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..models import GaussianVAE, MLPVAE
from ._harness import (F64, LOG_2PI, NO_GRAPH, Checker, answer_rtol, bce_reference, close,
                       compare, kl_reference, number, require_stable_in_float32)

__all__ = ["check_rate_distortion", "check_active_units"]

_BATCH, _LATENT, _SHAPE = 2000, 3, (1, 2, 3)
# eps = (z - mu) / sigma over 2,000 images: each dimension's sample variance has a standard
# deviation of sqrt(2 / 2000) = 0.032 and its mean one of 0.022, so the bounds below are
# more than 6 standard deviations wide for a right answer, while every known mistake
# (sigma^2 or log sigma^2 as the scale, no noise, one draw shared by all images) is far out.
_EPS_VAR_BOUNDS, _EPS_MEAN_BOUND = (0.8, 1.2), 0.15
# The same draws split at each dimension's median sigma (3,000 in each half, pooled over the
# latent dimensions):
# the mean of eps^2 in each half has a standard deviation of sqrt(2 / 3000) = 0.026, so
# (0.85, 1.15) is more than 5.8 of them wide; a sigma shared by the batch makes eps too wide
# where sigma is small and too narrow where it is large.
_HALF_BOUNDS = (0.85, 1.15)


class _LinearVAE(GaussianVAE):
    """A VAE with fixed linear maps (float64) that records the z of every ``decode`` call.

    ``encode(x) -> (mu, logvar)``, each ``(batch, 3)``, with ``logvar`` between -2.7 and -0.9
    (sigma from 0.26 to 0.64, so sigma, sigma^2 and log sigma^2 all differ), spread over that
    whole range within every latent dimension (so a sigma shared by the batch shows);
    ``decode(z) -> logits (batch, 1, 2, 3)``.
    """

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        n = math.prod(_SHAPE)
        self.latent_dim, self.input_shape = _LATENT, _SHAPE

        def fixed(*shape, scale=1.0):
            return nn.Parameter(scale * torch.randn(*shape, generator=g, dtype=F64),
                                requires_grad=False)

        self.w_mu, self.b_mu = fixed(n, _LATENT), fixed(_LATENT)
        self.w_logvar = fixed(n, _LATENT, scale=1.5)
        self.w_dec, self.b_dec = fixed(_LATENT, n, scale=2.0), fixed(n)
        self.decoded = []

    def encode(self, x):
        h = x.flatten(1).to(F64)
        return h @ self.w_mu + self.b_mu, 0.9 * torch.tanh((h - 0.5) @ self.w_logvar) - 1.8

    def decode(self, z):
        self.decoded.append(z.detach().clone())
        return (z.to(F64) @ self.w_dec + self.b_dec).view(-1, *self.input_shape)


def _pair(c: Checker, out, what: str):
    """The learner's ``(rate, distortion)`` as two numbers, or a hint about the shape."""
    __tracebackhide__ = True
    if isinstance(out, dict):
        c.fail(f"{what} returns a dict; return the two numbers as a tuple: "
               "`return rate, distortion`.")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        c.fail(f"{what} must return two numbers, `rate, distortion`; got "
               f"{type(out).__name__}{f' of length {len(out)}' if hasattr(out, '__len__') else ''}.")
    values = []
    for name, value in zip(("rate", "distortion"), out):
        if isinstance(value, torch.Tensor) and value.dim() > 0 and value.numel() > 1:
            c.fail(f"{name} has shape {tuple(value.shape)}: average over the images (.mean()) "
                   "to get one number in nats/image.")
        values.append(number(c, value, f"{what}'s {name}"))
    return values


def _looks_standard(eps, sigma) -> bool:
    """eps: (batch, latent) looks like N(0, 1) draws, in every dimension and whatever sigma."""
    lo, hi = _EPS_VAR_BOUNDS
    var = eps.var(dim=0, unbiased=False)
    if not bool(((var > lo) & (var < hi)).all() and (eps.mean(0).abs() < _EPS_MEAN_BOUND).all()):
        return False
    small = sigma <= sigma.median(dim=0, keepdim=True).values
    lo, hi = _HALF_BOUNDS
    return all(lo < float(half.pow(2).mean()) < hi for half in (eps[small], eps[~small]))


def _eps_problem(z, mu, logvar) -> str | None:
    """None if ``(z - mu) / sigma`` looks like independent N(0, 1) draws, else a hint."""
    sigma = torch.exp(0.5 * logvar)
    if torch.equal(z, mu):
        return None  # diagnosed by the caller (z = mu)
    if _looks_standard((z - mu) / sigma, sigma):
        return None
    if _looks_standard((z - mu) / sigma ** 2, sigma):
        return ("z uses exp(logvar), the variance, as the scale; the standard deviation is "
                "sigma = exp(0.5 * logvar): z = mu + exp(0.5 * logvar) * eps.")
    if _looks_standard((z - mu) / logvar.abs(), sigma):
        return ("z uses logvar as the scale; sigma = exp(0.5 * logvar): "
                "z = mu + exp(0.5 * logvar) * eps.")
    if _looks_standard(z - mu, sigma):
        return "z = mu + eps forgets sigma: z = mu + exp(0.5 * logvar) * eps."
    shared = [sigma.mean(), sigma.mean(0, keepdim=True), torch.exp(0.5 * logvar.mean()),
              torch.exp(0.5 * logvar.mean(0, keepdim=True)), sigma.mean(1, keepdim=True)]
    if any(_looks_standard((z - mu) / s, sigma) for s in shared):
        return ("z uses one sigma shared by the batch (a mean over the images, or over the "
                "latent dimensions), not each image's own: z = mu + exp(0.5 * logvar) * eps "
                "with logvar of shape (batch, latent_dim), no .mean().")
    if float(((z - mu) / sigma).var(dim=0).max()) < 1e-12:
        return ("every image got the same noise eps: draw one eps per image and latent "
                "dimension, e.g. torch.randn_like(mu).")
    return ("z is not a draw from q(z|x) = N(mu, sigma^2): use z = mu + sigma * eps with "
            "eps = torch.randn_like(mu) and sigma = exp(0.5 * logvar), each image with its own "
            "sigma (one draw per image).")


class _BigLogitsVAE(GaussianVAE):
    """float32, 1 image of shape (1, 2, 3): mu = logvar = 0, and ``decode`` returns the logits
    set in ``self.logits`` (±100, where exp overflows in float32) whatever z."""

    def __init__(self, logits):
        super().__init__()
        self.latent_dim, self.input_shape, self.logits = _LATENT, _SHAPE, logits
        self.scale = nn.Parameter(torch.ones(()), requires_grad=False)

    def encode(self, x):
        zeros = x.flatten(1)[:, :_LATENT] * 0
        return zeros, zeros.clone()

    def decode(self, z):
        return self.logits + 0 * z.sum(1).view(-1, 1, 1, 1)


def _matching_z(distortion, decoded, x, model):
    """The decoded z whose Bernoulli NLL (mean over images) is the learner's distortion."""
    for z in reversed(decoded):
        if z.shape[0] == x.shape[0] and close(distortion, bce_reference(model.decode(z), x).mean()):
            return z
    return None


def _check_gradients(c: Checker, fn, model: "_LinearVAE", x, seed: int) -> None:
    """Autograd's gradients of the learner's rate and distortion with respect to every weight
    of the stub VAE equal the reference's (closed-form KL; BCE at the same draw eps)."""
    __tracebackhide__ = True
    params = dict(model.named_parameters())
    for t in params.values():
        t.requires_grad_(True)
    try:
        model.decoded.clear()
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.manual_seed(seed)
            out = c.call(fn, model, x.clone())
        _pair(c, out, "rate_distortion")
        rate, distortion = out
        for name, value in (("rate", rate), ("distortion", distortion)):
            if not (isinstance(value, torch.Tensor) and value.requires_grad):
                kind = type(value).__name__
                c.fail(f"{name} carries no gradient (it is a {kind} that does not require grad): "
                       f"{NO_GRAPH}: return the tensors, not float(...) or .item().")
        with torch.no_grad():
            z_used = _matching_z(distortion.detach(), model.decoded, x, model)
            mu, logvar = model.encode(x)
        model.decoded.clear()
        if z_used is None:
            return                               # the value steps say what is wrong
        eps = (z_used - mu) / torch.exp(0.5 * logvar)
        with torch.enable_grad():
            mu_p, logvar_p = model.encode(x)
            rate_ref = kl_reference(mu_p, logvar_p).mean()
            z_ref = mu_p + torch.exp(0.5 * logvar_p) * eps
            dist_ref = bce_reference(model.decode(z_ref), x).mean()
            model.decoded.clear()
            names = list(params)
            encoder = {"w_mu", "b_mu", "w_logvar"}
            for what, got, want in (("rate", rate, rate_ref), ("distortion", distortion, dist_ref)):
                got_g = torch.autograd.grad(got.sum(), list(params.values()), allow_unused=True,
                                            retain_graph=True)
                want_g = torch.autograd.grad(want, list(params.values()), allow_unused=True,
                                             retain_graph=True)
                for name, mine, ref in zip(names, got_g, want_g):
                    ref = torch.zeros_like(params[name]) if ref is None else ref
                    mine = torch.zeros_like(ref) if mine is None else mine
                    if bool((ref == 0).all()):
                        continue
                    if bool((mine == 0).all()):
                        if what == "distortion" and name in encoder:
                            c.fail("no gradient reaches the encoder through the sampled z: z is "
                                   "detached (.detach(), torch.normal and .sample() are not "
                                   "differentiable); z = mu + exp(0.5 * logvar) * "
                                   "torch.randn_like(mu).")
                        c.fail(f"no gradient reaches the {'encoder' if name in encoder else 'decoder'}"
                               f" weights from {what}, although its value is right: part of it "
                               "is detached (.detach(), .data, float() or NumPy); use torch "
                               "operations on the model's outputs.")
                    if not close(mine, ref, rtol=answer_rtol(got)):
                        c.fail(f"{what} has the right value but the wrong gradient with respect "
                               f"to the model's weights ({compare(mine, ref)}): part of the "
                               "formula is detached or replaced by a constant.")
    finally:
        for t in params.values():
            t.requires_grad_(False)
        model.decoded.clear()


def check_rate_distortion(fn) -> None:
    """Check ``fn(model, x) -> (rate, distortion)``, two numbers in nats per image.

    Expected, for a batch ``x`` and a VAE ``model`` (``encode`` and ``decode`` as in
    ``course_utils.models``): ``rate`` = KL(q(z|x) || N(0, I)) summed over the latent
    dimensions and averaged over the images, in closed form (a one-sample Monte-Carlo
    estimate ``log q(z|x) - log p(z)`` is rejected: it is noisy); ``distortion`` = the
    Bernoulli negative log-likelihood ``-log p(x|z)`` from the decoder's logits, summed over
    pixels and averaged over the images, at one draw ``z = mu + exp(logvar / 2) * eps`` per
    image, each with its own sigma (``z = mu`` is rejected: that is not the distortion term
    of the ELBO), exact at logits of ±100 in float32. Both are tensors that carry autograd's
    gradient to the encoder's and decoder's weights, equal to the reference's. Prints
    ``rate and distortion: 7/7 checks passed`` or raises ``AssertionError``.
    """
    c = Checker("rate and distortion", "rate_distortion")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame
    g = torch.Generator().manual_seed(1)
    x = torch.rand(_BATCH, *_SHAPE, generator=g, dtype=F64)
    model = _LinearVAE()
    with torch.no_grad():
        mu, logvar = model.encode(x)
    pixels = math.prod(_SHAPE)

    with c.step("returns two numbers (nats/image)"):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            out = c.call(fn, model, x.clone())
        rate, distortion = _pair(c, out, "rate_distortion")
        calls = [z for z in model.decoded if z.shape == mu.shape]
        if not model.decoded:
            c.fail("rate_distortion never called model.decode (or model(x)): decode a draw "
                   "z ~ q(z|x) to get the logits of p(x|z).")
        if not calls:
            c.fail(f"model.decode got z of shape {tuple(model.decoded[-1].shape)}, expected "
                   f"{tuple(mu.shape)} (one draw per image, (batch, latent_dim)).")

    with c.step("distortion: -log p(x|z), summed over pixels, averaged over images"):
        candidates = [(z, bce_reference(model.decode(z), x)) for z in calls]
        model.decoded.clear()
        match = [(z, nll) for z, nll in candidates if close(distortion, nll.mean())]
        if not match:
            z, nll = candidates[-1]
            logits = model.decode(z)
            model.decoded.clear()
            want = nll.mean()
            known = [
                (want / pixels, "distortion is the mean over pixels; sum over pixels (nats per "
                                "image), then average over the images."),
                (nll.sum(), "distortion is summed over the batch; average over the images "
                            "(nats per image), so that batches of any size compare."),
                (-want, "distortion has the wrong sign: it is -log p(x|z) >= 0 for a Bernoulli "
                        "decoder."),
                (bce_reference(torch.sigmoid(logits), x).mean(),
                 "distortion applies the sigmoid twice: the decoder returns logits."),
                (bce_reference(logits, 1 - x).mean(),
                 "distortion swaps x and 1 - x: x * log(p) + (1 - x) * log(1 - p)."),
                (((torch.sigmoid(logits) - x) ** 2).flatten(1).sum(1).mean(),
                 "distortion is the squared error; the decoder is Bernoulli, so it is the "
                 "binary cross-entropy from the logits (F.binary_cross_entropy_with_logits, "
                 "reduction='none', summed over pixels)."),
            ]
            known.append((bce_reference(x, logits).mean(),
                          "distortion passes the arguments in the wrong order: "
                          "F.binary_cross_entropy_with_logits(logits, x) takes the logits "
                          "first, then the target x."))
            for value, hint in known:
                if close(distortion, value):
                    c.fail(hint)
            if close(distortion, kl_reference(mu, logvar).mean()) and any(
                    close(rate, n.mean()) for _, n in candidates):
                c.fail("rate_distortion returns (distortion, rate): return the rate first, "
                       "`return rate, distortion`.")
            c.fail("distortion is not the Bernoulli negative log-likelihood of x at the decoded "
                   f"z, summed over pixels and averaged over images ({compare(distortion, want)}).")
        z_used = match[-1][0]

    with c.step("z is one draw from q(z|x) per image"):
        if torch.equal(z_used, mu):
            c.fail("distortion is computed at z = mu; the ELBO's distortion is an expectation "
                   "over q(z|x): sample z = mu + exp(0.5 * logvar) * eps, eps ~ N(0, I).")
        problem = _eps_problem(z_used, mu, logvar)
        if problem:
            c.fail(problem)

    with c.step("rate: the closed-form KL, summed over latents, averaged over images"):
        kl = kl_reference(mu, logvar)
        want = kl.mean()
        if not close(rate, want):
            log_q = -0.5 * (((z_used - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(1)
            log_p = -0.5 * (z_used ** 2 + LOG_2PI).sum(1)
            sigma_as_log = -0.5 * (1 + 2 * logvar - mu ** 2 - logvar.exp() ** 2).sum(1).mean()
            known = [
                ((log_q - log_p).mean(),
                 "rate is the one-sample Monte-Carlo estimate log q(z|x) - log p(z) at the "
                 "sampled z; the exercise asks for the closed form, exact and free of sampling "
                 "noise: -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) over the latent "
                 "dimensions, averaged over the images."),
                (want / _LATENT, "rate is the mean over latent dimensions; sum over them (nats "
                                 "per image), then average over the images."),
                (kl.sum(), "rate is summed over the batch; average over the images (nats per "
                           "image)."),
                (-want, "rate has the wrong sign: KL(q || p) = -1/2 * sum(1 + logvar - mu^2 - "
                        "exp(logvar)) >= 0."),
                (2 * want, "rate is twice too large: the closed form has a factor 1/2."),
                (sigma_as_log, "rate treats logvar as log(sigma); it is log(sigma^2)."),
            ]
            for value, hint in known:
                if close(rate, value):
                    c.fail(hint)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(1)
                again, _ = _pair(c, c.call(fn, model, x.clone()), "rate_distortion")
            model.decoded.clear()
            if not close(again, rate):
                c.fail("rate changes from one call to the next (it depends on the random "
                       "draw): use the closed-form KL, -1/2 * sum(1 + logvar - mu^2 - "
                       "exp(logvar)), which does not.")
            c.fail("rate is not KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions "
                   f"and averaged over images ({compare(rate, want)}).")

    with c.step("gradients reach the encoder and decoder"):
        _check_gradients(c, fn, model, x, seed=0)

    with c.step("distortion exact for logits of ±100 in float32"), \
            torch.random.fork_rng(devices=[]):          # the caller's random state is kept
        torch.manual_seed(0)
        def distortion_at(logits, target):
            __tracebackhide__ = True
            out = c.call(fn, _BigLogitsVAE(logits), target.view(1, *_SHAPE))
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                _pair(c, out, "rate_distortion")        # fails with the hint about the shape
            return out[1]
        require_stable_in_float32(c, distortion_at, "distortion")

    with c.step("runs on a course model (MLPVAE, float32)"):
        with torch.random.fork_rng(devices=[]):         # the caller's random state is kept
            torch.manual_seed(0)
            vae = MLPVAE(latent_dim=2, hidden_dim=16)
            x32 = torch.rand(8, 1, 28, 28, generator=g)
            rate32, dist32 = _pair(c, c.call(fn, vae, x32.clone()), "rate_distortion")
        if not float(dist32) > 0:          # both are finite numbers (checked by _pair)
            c.fail(f"on an MLPVAE (random weights, 8 images) the distortion is "
                   f"{float(dist32):g}; it must be a positive number of nats per image.")
    c.passed()


def _variance(mu, unbiased=False):
    return mu.var(dim=0, unbiased=unbiased)


def _count(values, threshold):
    return int((values > threshold).sum())


def _per_batch_variance(mu, batch=64):
    """The mistake: the mean of each mini-batch's own variance, not the variance over all."""
    return torch.stack([_variance(b) for b in mu.split(batch)]).mean(0)


# Known mistakes, (answer for (mu, threshold), hint). A wrong count is put down to the first
# mistake that gives that count and also the right count in every case passed before; the
# cases below are built so that each mistake fails one of them.
_MISTAKES = [
    (lambda m, t: _count(m.var(dim=1, unbiased=False), t),
     "computes the variance over the wrong axis: one variance per latent dimension, over the "
     "images (dim=0), then count those above the threshold."),
    (lambda m, t: _count(_variance(m).sqrt(), t),
     "compares the standard deviation with the threshold; the threshold is on the variance of "
     "each dimension's posterior mean."),
    (lambda m, t: _count(_variance(m, True), t),
     "uses the unbiased variance (dividing by N - 1, torch's default); the definition is the "
     "variance over the data set, dividing by N: mu.var(dim=0, unbiased=False)."),
    (lambda m, t: _count((m ** 2).mean(0), t),
     "uses the mean of mu^2; the activity is the variance of the means about their average, "
     "Var_x(mu_j): subtract the average over the images first."),
    (lambda m, t: _count(m.abs().mean(0), t),
     "uses the mean of |mu|; the activity is the variance of the means about their average, "
     "Var_x(mu_j)."),
    (lambda m, t: _count(_variance(m), 0.01),
     "ignores its threshold argument: compare with `threshold`, not a fixed 0.01."),
    (lambda m, t: int((_variance(m) >= t).sum()),
     "counts a variance equal to the threshold; a unit is active when its variance is strictly "
     "above it (>, as in Burda et al. 2016 and metrics.active_units)."),
    (lambda m, t: _count(_per_batch_variance(m), t),
     "computes the variance within mini-batches (and averages it): a mean that differs from "
     "one batch to the next does not count, so dimensions look inactive. The activity is the "
     "variance over the whole evaluation set: mu.var(dim=0, unbiased=False) over all N rows."),
]


def _columns(*cols):
    """Posterior means (N = 4 images, one column per latent dimension), float64."""
    return torch.tensor(cols, dtype=F64).T.contiguous()


def _pm(a):
    """A column +a, -a, +a, -a: mean 0, variance exactly a^2 (dividing by N)."""
    return (a, -a, a, -a)


# (what, mu, threshold). Variances in the comments divide by N = 4.
_CASES = [
    # 0.04, 0.25, 0 (a constant mean of 3): 2 active. Per image (wrong axis): 4.
    ("three dimensions, two used", _columns(_pm(0.2), _pm(0.5), (3.0,) * 4), 0.01),
    # 0.0025 (standard deviation 0.05, above 0.01) and 0.04: 1 active.
    ("variance, not standard deviation", _columns(_pm(0.05), _pm(0.2)), 0.01),
    # 0.0025, 0.009025, 0.0001 against 0.001: 2 active (none against 0.01).
    ("uses its threshold", _columns(_pm(0.05), _pm(0.095), _pm(0.01)), 0.001),
    # 1 (unbiased: 4/3) and 4 against 1.2: 1 active (2 dividing by N - 1).
    ("variance over the data (divide by N)", _columns(_pm(1.0), _pm(2.0)), 1.2),
    # constant means 3 and -0.5 (variance 0, mean square 9 and 0.25) and 0.04: 1 active.
    ("a constant mean is inactive", _columns((3.0,) * 4, (-0.5,) * 4, _pm(0.2)), 0.01),
    # exactly 0.015625 = 2^-6 (exact in floating point) and 0.25: 1 active (2 with >=).
    ("strictly above the threshold", _columns(_pm(0.125), _pm(0.5)), 0.015625),
    # N = 4096: +0.2 for the first half of the images, -0.2 for the second (0.04 over the
    # whole set, 0 inside any mini-batch that does not straddle the middle), alternating
    # ±0.2 (0.04 everywhere) and ±0.05 (0.0025): 2 active, 1 from per-batch variances.
    ("variance over the whole set, not per mini-batch",
     _columns(*[[v for v in (0.2, -0.2) for _ in range(2048)], [0.2, -0.2] * 2048,
                [0.05, -0.05] * 2048]), 0.01),
]


def _as_count(c: Checker, got, what: str) -> int:
    """The learner's count as an int, or a hint about its type: an ``int`` is asked for
    (a Python int, or a NumPy integer such as np.count_nonzero's)."""
    __tracebackhide__ = True
    if isinstance(got, torch.Tensor) and got.numel() > 1:
        c.fail(f"count_active_units returns a tensor of shape {tuple(got.shape)} for {what}; "
               "return the count, e.g. int((variance > threshold).sum()).")
    value = number(c, got, "count_active_units")
    if float(value) != round(float(value)):
        c.fail(f"count_active_units returned {float(value)} for {what}; return a whole "
               "number of dimensions, not a fraction or a variance.")
    if isinstance(got, torch.Tensor):
        c.fail(f"count_active_units returns a 0-d tensor ({got.dtype}) for {what}, not an int: "
               "wrap the count in int(...), e.g. int((variance > threshold).sum()).")
    if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
        c.fail(f"count_active_units returns {type(got).__name__} {float(value):g} for {what}, "
               "not an int: return int(...) of the count.")
    return int(got)


def check_active_units(fn) -> None:
    """Check ``fn(mu, threshold=0.01) -> int``: the number of active latent dimensions.

    ``mu``: ``(N, latent_dim)`` posterior means, one row per image; the count is an ``int``
    (not a tensor). A dimension is active
    when the variance over the ``N`` images of its posterior mean (dividing by ``N``) is
    strictly above ``threshold`` (Burda et al. 2016; ``course_utils.metrics.active_units``),
    over all ``N`` rows at once (not per mini-batch). Seven hand-made cases whose variances
    are known exactly and straddle the threshold, in float64 and float32. Prints
    ``active units: 8/8 checks passed`` or raises ``AssertionError``.
    """
    c = Checker("active units", "count_active_units")
    __tracebackhide__ = True

    def count(mu, threshold, what):
        __tracebackhide__ = True
        got = c.call(fn, mu.clone(), threshold)
        return _as_count(c, got, what)

    for i, (what, mu, threshold) in enumerate(_CASES):
        with c.step(what):
            want = _count(_variance(mu), threshold)
            got = count(mu, threshold, what)
            if got == want:
                continue
            passed = _CASES[:i]                       # a mistake the learner could have made
            for mistake, hint in _MISTAKES:           # gives their count here, and the right
                if got == mistake(mu, threshold) and all(   # one in every case passed so far
                        mistake(m, t) == _count(_variance(m), t) for _, m, t in passed):
                    c.fail(f"count_active_units {hint}")
            c.fail(f"count_active_units gives {got} active dimensions for {what}, expected "
                   f"{want} (variances {[round(v, 6) for v in _variance(mu).tolist()]}, "
                   f"threshold {threshold}).")
    with c.step("float32 means, default threshold 0.01"):
        mu = _CASES[0][1]
        try:
            got = c.call(fn, mu.float().clone())
        except AssertionError as err:
            if "TypeError" in str(err):
                c.fail("count_active_units(mu) must work without a threshold: give it the "
                       "default threshold=0.01.")
            raise
        want = int((_variance(mu.float()) > 0.01).sum())
        if _as_count(c, got, "float32 means") != want:
            c.fail(f"count_active_units on float32 means with the default threshold gives "
                   f"{float(got):g}, expected {want}.")
    c.passed()
