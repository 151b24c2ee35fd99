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

import torch
from torch import nn

from ..models import GaussianVAE, MLPVAE
from ._harness import (F64, LOG_2PI, Checker, bce_reference, close, compare, kl_reference,
                       number)

__all__ = ["check_rate_distortion", "check_active_units"]

_BATCH, _LATENT, _SHAPE = 2000, 3, (1, 2, 3)
# eps = (z - mu) / sigma over 2,000 images: each dimension's sample variance has a standard
# deviation of sqrt(2 / 2000) = 0.032 and its mean one of 0.022, so the bounds below are
# more than 6 standard deviations wide for a right answer, while every known mistake
# (sigma^2 or log sigma^2 as the scale, no noise, one draw shared by all images) is far out.
_EPS_VAR_BOUNDS, _EPS_MEAN_BOUND = (0.8, 1.2), 0.15


class _LinearVAE(GaussianVAE):
    """A VAE with fixed linear maps (float64) that records the z of every ``decode`` call.

    ``encode(x) -> (mu, logvar)``, each ``(batch, 3)``, with ``logvar`` between about -2.6
    and -0.6 (sigma from 0.27 to 0.74, so sigma, sigma^2 and log sigma^2 all differ);
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
        self.w_logvar = fixed(n, _LATENT, scale=0.3)
        self.w_dec, self.b_dec = fixed(_LATENT, n, scale=2.0), fixed(n)
        self.decoded = []

    def encode(self, x):
        h = x.flatten(1).to(F64)
        return h @ self.w_mu + self.b_mu, torch.tanh(h @ self.w_logvar) - 1.6

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


def _eps_problem(z, mu, logvar) -> str | None:
    """None if ``(z - mu) / sigma`` looks like independent N(0, 1) draws, else a hint."""
    sigma = torch.exp(0.5 * logvar)
    if torch.equal(z, mu):
        return None  # diagnosed by the caller (z = mu)

    def looks_standard(eps):
        lo, hi = _EPS_VAR_BOUNDS
        var = eps.var(dim=0, unbiased=False)
        return bool(((var > lo) & (var < hi)).all() and (eps.mean(0).abs() < _EPS_MEAN_BOUND).all())

    if looks_standard((z - mu) / sigma):
        return None
    if looks_standard((z - mu) / sigma ** 2):
        return ("z uses exp(logvar), the variance, as the scale; the standard deviation is "
                "sigma = exp(0.5 * logvar): z = mu + exp(0.5 * logvar) * eps.")
    if looks_standard((z - mu) / logvar.abs()):
        return ("z uses logvar as the scale; sigma = exp(0.5 * logvar): "
                "z = mu + exp(0.5 * logvar) * eps.")
    if looks_standard(z - mu):
        return "z = mu + eps forgets sigma: z = mu + exp(0.5 * logvar) * eps."
    if float(((z - mu) / sigma).var(dim=0).max()) < 1e-12:
        return ("every image got the same noise eps: draw one eps per image and latent "
                "dimension, e.g. torch.randn_like(mu).")
    return ("z is not a draw from q(z|x) = N(mu, sigma^2): use z = mu + sigma * eps with "
            "eps = torch.randn_like(mu) and sigma = exp(0.5 * logvar) (one draw per image).")


def check_rate_distortion(fn) -> None:
    """Check ``fn(model, x) -> (rate, distortion)``, two numbers in nats per image.

    Expected, for a batch ``x`` and a VAE ``model`` (``encode`` and ``decode`` as in
    ``course_utils.models``): ``rate`` = KL(q(z|x) || N(0, I)) summed over the latent
    dimensions and averaged over the images (closed form, or its one-sample estimate
    ``log q(z|x) - log p(z)`` at the decoded ``z``); ``distortion`` = the Bernoulli negative
    log-likelihood ``-log p(x|z)`` from the decoder's logits, summed over pixels and averaged
    over the images, at one draw ``z = mu + exp(logvar / 2) * eps`` per image (``z = mu`` is
    rejected: that is not the distortion term of the ELBO). Prints
    ``rate and distortion: 5/5 checks passed`` or raises ``AssertionError``.
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
            for value, hint in known:
                if close(distortion, value):
                    c.fail(hint)
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

    with c.step("rate: KL(q(z|x) || p(z)), summed over latents, averaged over images"):
        kl = kl_reference(mu, logvar)
        want = kl.mean()
        log_q = -0.5 * (((z_used - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(1)
        log_p = -0.5 * (z_used ** 2 + LOG_2PI).sum(1)
        if not (close(rate, want) or close(rate, (log_q - log_p).mean())):
            sigma_as_log = -0.5 * (1 + 2 * logvar - mu ** 2 - logvar.exp() ** 2).sum(1).mean()
            known = [
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
            c.fail("rate is not KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions "
                   f"and averaged over images ({compare(rate, want)}).")

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
]


def check_active_units(fn) -> None:
    """Check ``fn(mu, threshold=0.01) -> int``: the number of active latent dimensions.

    ``mu``: ``(N, latent_dim)`` posterior means, one row per image. A dimension is active
    when the variance over the ``N`` images of its posterior mean (dividing by ``N``) is
    strictly above ``threshold`` (Burda et al. 2016; ``course_utils.metrics.active_units``).
    Six hand-made cases whose variances are known exactly and straddle the threshold, in
    float64 and float32. Prints ``active units: 7/7 checks passed`` or raises
    ``AssertionError``.
    """
    c = Checker("active units", "count_active_units")
    __tracebackhide__ = True

    def count(mu, threshold, what):
        __tracebackhide__ = True
        got = c.call(fn, mu.clone(), threshold)
        if isinstance(got, torch.Tensor) and got.numel() > 1:
            c.fail(f"count_active_units returns a tensor of shape {tuple(got.shape)} for {what}; "
                   "return the count, e.g. int((variance > threshold).sum()).")
        got = number(c, got, "count_active_units")
        if float(got) != round(float(got)):
            c.fail(f"count_active_units returned {float(got)} for {what}; return a whole "
                   "number of dimensions, not a fraction or a variance.")
        return int(round(float(got)))

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
        if int(round(float(number(c, got, "count_active_units")))) != want:
            c.fail(f"count_active_units on float32 means with the default threshold gives "
                   f"{float(got):g}, expected {want}.")
    c.passed()
