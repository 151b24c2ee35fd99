"""The exercise checkers accept right answers and reject known-wrong ones, naming the mistake.

The reference answers are the code of the solution notebooks, read through the exercise
generator's parser (``tools/make_exercises.py``), so they cannot drift from the solutions;
the line an accepted answer prints must be the one the solution recorded.

One table, ``CASES``: checker × answer → expected verdict, either ``PASS`` or the hint
(a substring of the one-line ``AssertionError``). Wrong answers are the mistakes learners
make (and those found by reviews and by a blind battery of wrong answers); right answers
written differently (``torch.distributions``, ``F.binary_cross_entropy_with_logits``,
float32, NumPy numbers...) must pass.
"""
import ast
import math
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import checks
from course_utils.checks import _harness

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises as mx  # noqa: E402

CHECK_CALL = mx.CHECK_CALL


def solution(name: str):
    """(namespace, {checker: recorded line}) of ``solutions/<name>.ipynb`` (the generator's parser)."""
    return mx.load_solution(ROOT / "solutions" / f"{name}.ipynb")


SOLUTIONS = {name: solution(name) for name in
             ("beta_vae", "conditional_vae", "kl_annealing", "mse_vs_bce")}
RECORDED = {checker: line for _, lines in SOLUTIONS.values() for checker, line in lines.items()}
beta_vae_loss = SOLUTIONS["beta_vae"][0]["beta_vae_loss"]
CVAE = SOLUTIONS["conditional_vae"][0]["CVAE"]
linear_schedule = SOLUTIONS["kl_annealing"][0]["linear_schedule"]
cyclical_schedule = SOLUTIONS["kl_annealing"][0]["cyclical_schedule"]
gaussian_recon = SOLUTIONS["mse_vs_bce"][0]["gaussian_recon"]
bernoulli_recon = SOLUTIONS["mse_vs_bce"][0]["bernoulli_recon"]

PASS = None
CASES = []


def case(checker: str, name: str, answer, expect=PASS):
    CASES.append(pytest.param(checker, answer, expect, id=f"{checker}: {name}"))


def stub(*args, **kwargs):
    raise NotImplementedError("write the code")


# ---------------------------------------------------------------- β-VAE loss

LOG_2PI = math.log(2 * math.pi)


def _bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none")


def _kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def beta_loss(recon_fn, kl_fn=lambda m, v: _kl(m, v).sum(1), combine=lambda r, k, b: r + b * k):
    """A β-VAE loss built from a recon term, a KL term and how they are combined."""
    def loss(logits, x, mu, logvar, beta=1.0):
        r, k = recon_fn(logits, x), kl_fn(mu, logvar)
        return {"loss": combine(r, k, beta), "recon": r, "kl": k}
    return loss


def _naive_bce(l, x):  # probabilities first: log(0) for large logits
    p = torch.sigmoid(l)
    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)


def _kl_distributions(mu, logvar):
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    return torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1)


def _beta_float32(logits, x, mu, logvar, beta=1.0):
    return beta_vae_loss(logits.float(), x.float(), mu.float(), logvar.float(), beta)


def _kl_pow_in_place(mu, logvar):  # mu.pow_(2) squares the caller's mu
    return -0.5 * (1 + logvar - mu.pow_(2) - logvar.exp()).sum(1)


BCE_SUM = lambda l, x: _bce(l, x).flatten(1).sum(1)  # noqa: E731
B = "check_beta_vae_loss"
case(B, "reference (the solution)", beta_vae_loss)
case(B, "torch.distributions KL and Bernoulli", beta_loss(
    lambda l, x: -torch.distributions.Bernoulli(logits=l, validate_args=False)
    .log_prob(x).flatten(1).sum(1), _kl_distributions))
case(B, "softplus form, mu**2 and sum over dims", beta_loss(
    lambda l, x: (F.softplus(l) - x * l).sum(dim=(1, 2, 3)),
    lambda m, v: 0.5 * (m**2 + v.exp() - 1 - v).sum(dim=1)))
case(B, "float32 answer", _beta_float32)
case(B, "beta keyword used positionally as a float tensor", beta_loss(
    BCE_SUM, combine=lambda r, k, b: r + torch.as_tensor(b, dtype=r.dtype) * k))
case(B, "stub", stub, "implement `beta_vae_loss` first")
case(B, "beta ignored", beta_loss(BCE_SUM, combine=lambda r, k, b: r + k), "beta is ignored")
case(B, "beta on recon", beta_loss(BCE_SUM, combine=lambda r, k, b: b * r + k),
     "beta is applied to the reconstruction term")
case(B, "KL subtracted", beta_loss(BCE_SUM, combine=lambda r, k, b: r - b * k),
     "the KL is subtracted")
case(B, "KL sign flipped", beta_loss(BCE_SUM, lambda m, v: -_kl(m, v).sum(1)),
     "kl has the wrong sign")
case(B, "mean over pixels", beta_loss(lambda l, x: _bce(l, x).flatten(1).mean(1)),
     "recon is the mean over pixels")
case(B, "mean over latents", beta_loss(BCE_SUM, lambda m, v: _kl(m, v).mean(1)),
     "kl is the mean over latent dimensions")
case(B, "KL without the 1/2", beta_loss(BCE_SUM, lambda m, v: 2 * _kl(m, v).sum(1)),
     "factor 1/2")
case(B, "batch reduced", beta_loss(lambda l, x: _bce(l, x).sum(), lambda m, v: _kl(m, v).sum()),
     "single number")
case(B, "NaN", beta_loss(lambda l, x: BCE_SUM(l, x) * float("nan")), "NaN")
case(B, "sigmoid twice", beta_loss(lambda l, x: BCE_SUM(torch.sigmoid(l), x)),
     "applies the sigmoid twice")
case(B, "x and 1 - x swapped", beta_loss(lambda l, x: BCE_SUM(l, 1 - x)), "swaps x and 1 - x")
case(B, "logvar as log sigma", beta_loss(
    BCE_SUM, lambda m, v: -0.5 * (1 + 2 * v - m**2 - v.exp() ** 2).sum(1)), "log(sigma^2)")
case(B, "tuple returned", lambda l, x, m, v, b=1.0: (l, x), "return a dict")
# issue 8: sigmoid probabilities pass on moderate logits; large logits expose them
case(B, "probabilities: log(sigmoid) by hand", beta_loss(_naive_bce),
     "NaN/inf for large logits")
case(B, "probabilities: F.binary_cross_entropy(sigmoid)", beta_loss(
    lambda l, x: F.binary_cross_entropy(torch.sigmoid(l), x, reduction="none").flatten(1).sum(1)),
    "inexact for large logits")
case(B, "probabilities clamped to [1e-7, 1 - 1e-7]", beta_loss(
    lambda l, x: F.binary_cross_entropy(torch.sigmoid(l).clamp(1e-7, 1 - 1e-7), x,
                                        reduction="none").flatten(1).sum(1)),
    "inexact for large logits")
case(B, "logits clamped to [-20, 20] in place", beta_loss(
    lambda l, x: BCE_SUM(l.clamp_(-20, 20), x)), "changed its argument `logits` in place")
case(B, "mu squared in place (pow_)", beta_loss(BCE_SUM, _kl_pow_in_place),
     "changed its argument `mu` in place")
# found by the blind battery (/tmp/blind, written without reading the checkers)
case(B, "float64 result for float32 inputs", lambda l, x, m, v, b=1.0: beta_vae_loss(
    l.double(), x.double(), m.double(), v.double(), b), "returns torch.float64 for float32")
case(B, "torch.distributions.Bernoulli validating grey levels", beta_loss(
    lambda l, x: -torch.distributions.Bernoulli(logits=l).log_prob(x).flatten(1).sum(1)),
    "outside a Bernoulli's support {0, 1}")
case(B, "float32 answer with beta ignored", lambda l, x, m, v, b=1.0: beta_vae_loss(
    l.float(), x.float(), m.float(), v.float(), 1.0), "beta is ignored")
# issue 19: gradients, a KL already weighted by beta, float32 overflow
case(B, "kl already multiplied by beta", lambda l, x, m, v, b=1.0: {
    "loss": BCE_SUM(l, x) + b * _kl(m, v).sum(1), "recon": BCE_SUM(l, x),
    "kl": b * _kl(m, v).sum(1)}, "already multiplied by beta")
case(B, "loss through .item()", lambda l, x, m, v, b=1.0: {
    k: torch.tensor([float(e) for e in t], dtype=l.dtype) for k, t in beta_vae_loss(
        l, x, m, v, b).items()}, "no gradient flows back")
case(B, "logvar detached", beta_loss(BCE_SUM, lambda m, v: _kl(m, v.detach()).sum(1)),
     "no gradient reaches `logvar`")
case(B, "log1p(exp(l)): inf in float32 at l = 100", beta_loss(
    lambda l, x: -(x * l - torch.log1p(torch.exp(l))).flatten(1).sum(1)),
    "overflows for float32 logits of ±100")


# ---------------------------------------------------------------- conditional VAE


def sampler(draw):
    """A CVAE whose forward draws z = draw(mu, logvar) (right or wrong)."""
    class Sampler(CVAE):
        def forward(self, x, y):
            mu, logvar = self.encode(x, y)
            return self.decode(draw(mu, logvar), y), mu, logvar
    return Sampler


def _sd(logvar):
    return torch.exp(0.5 * logvar)


class EncoderIgnoresLabel(CVAE):
    def encode(self, x, y):
        h = self.body(torch.cat([x.flatten(1), torch.zeros_like(self.one_hot(y, x))], dim=1))
        return self.to_mu(h), self.to_logvar(h)


class DecoderIgnoresLabel(CVAE):
    def decode(self, z, y):
        return super().decode(z, torch.zeros_like(y))


class FlatLogits(CVAE):
    def decode(self, z, y):
        return super().decode(z, y).flatten(1)


class MixesExamples(CVAE):
    def decode(self, z, y):
        return super().decode(z, y[:1].expand_as(y))


class FlattensAcrossTheBatch(CVAE):
    def encode(self, x, y):
        h = self.body(torch.cat([x.reshape(784, -1).T, self.one_hot(y, x)], dim=1))
        return self.to_mu(h), self.to_logvar(h)


class ReshapesLogitsAcrossTheBatch(CVAE):
    def decode(self, z, y):
        return self.decoder(torch.cat([z, self.one_hot(y, z)], dim=1)).T.reshape(-1, 1, 28, 28)


class NaNLogits(CVAE):
    def decode(self, z, y):
        return super().decode(z, y) * float("nan")


class WrongLatentShape(CVAE):
    def encode(self, x, y):
        mu, logvar = super().encode(x, y)
        return mu[:, :1], logvar[:, :1]


class DecodesFixedLabel(CVAE):
    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        z = mu + _sd(logvar) * torch.randn_like(mu)
        return self.decode(z, torch.full_like(y, 3)), mu, logvar


class DecodesShuffledLabels(CVAE):
    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        return self.decode(mu + _sd(logvar) * torch.randn_like(mu), y.flip(0)), mu, logvar


def head(transform, which):
    """A CVAE whose mu or logvar head ends in ``transform`` (a ReLU...)."""
    class Head(CVAE):
        def encode(self, x, y):
            mu, logvar = super().encode(x, y)
            if which == "same":
                return mu, mu
            return (transform(mu), logvar) if which == "mu" else (mu, transform(logvar))
    return Head


def decoder_end(transform):
    class End(CVAE):
        def decode(self, z, y):
            return transform(super().decode(z, y))
    return End


class ReseedsEveryCall(CVAE):
    def forward(self, x, y):
        torch.manual_seed(0)
        return super().forward(x, y)


class ScalesImageInPlace(CVAE):
    def encode(self, x, y):
        return super().encode(x.mul_(2).sub_(1), y)  # to [-1, 1], on the caller's tensor


class InlineForwardSkipsDecode(CVAE):
    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        z = mu + _sd(logvar) * torch.randn_like(mu)
        return self.decoder(torch.cat([z, self.one_hot(y, z)], 1)).view(-1, 1, 28, 28), mu, logvar


class EncodesTwice(CVAE):
    def forward(self, x, y):
        mu, logvar = self.encode(x, y)[0], self.encode(x, y)[1]
        return self.decode(mu + _sd(logvar) * torch.randn_like(mu), y), mu, logvar


class EncoderIgnoresImage(CVAE):
    def encode(self, x, y):
        return super().encode(torch.zeros_like(x), y)


class DecoderIgnoresZ(CVAE):
    def decode(self, z, y):
        return super().decode(torch.zeros_like(z), y)


class LabelAsNumber(CVAE):
    def one_hot(self, y, like):  # the label value in column 0 instead of a one-hot code
        code = torch.zeros(len(y), self.num_classes, dtype=like.dtype)
        code[:, 0] = y.to(like)
        return code


class NoHiddenNonlinearity(CVAE):
    def __init__(self, latent_dim=2, num_classes=10, hidden_dim=400):
        super().__init__(latent_dim, num_classes, hidden_dim)
        self.body[1] = torch.nn.Identity()
        self.decoder[1] = torch.nn.Identity()


class DecodesRandomLabels(CVAE):
    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        z = mu + _sd(logvar) * torch.randn_like(mu)
        return self.decode(z, torch.randint_like(y, self.num_classes)), mu, logvar


class RelabelledOneHot(CVAE):
    """Right: the same relabelling in both networks is absorbed by the weights."""
    def one_hot(self, y, like):
        return F.one_hot((y + 1) % self.num_classes, self.num_classes).to(like)


class CVAEStub(torch.nn.Module):
    def __init__(self, latent_dim=2, num_classes=10, hidden_dim=400):
        super().__init__()
        raise NotImplementedError("layers")


class EncodeStub(CVAE):
    def encode(self, x, y):
        raise NotImplementedError("concatenate one_hot(y) to the image")


def _uniform_standardised(mu, logvar):
    return mu + _sd(logvar) * (torch.rand_like(mu) - 0.5) * math.sqrt(12)


C = "check_cvae"
case(C, "reference (the solution)", CVAE)
case(C, "torch.distributions rsample", sampler(
    lambda m, v: torch.distributions.Normal(m, _sd(v)).rsample()))
case(C, "sqrt(exp(logvar)) and randn(shape)", sampler(
    lambda m, v: m + torch.sqrt(v.exp()) * torch.randn(m.shape)))
case(C, "another random stream (discards a draw)", sampler(
    lambda m, v: (torch.randn_like(m), m + _sd(v) * torch.randn_like(m))[1]))
case(C, "calls encode twice", EncodesTwice)
case(C, "stub constructor", CVAEStub, "implement `CVAE` first")
case(C, "encode stub", EncodeStub, "implement `CVAE.encode` first")
case(C, "encode stub hint shown", EncodeStub, "concatenate one_hot(y) to the image")
case(C, "encoder ignores label", EncoderIgnoresLabel, "the encoder ignores the label")
case(C, "decoder ignores label", DecoderIgnoresLabel, "the decoder ignores the label")
case(C, "decodes mu", sampler(lambda m, v: m), "forward decodes mu")
case(C, "flat logits", FlatLogits, "expected (4, 1, 28, 28)")
case(C, "mixes examples", MixesExamples, "the decoder mixes examples")
case(C, "NaN", NaNLogits, "NaN")
case(C, "wrong latent shape", WrongLatentShape, "expected (4, 3)")
# issue 8: forwards that sample without using mu and sigma correctly
case(C, "z = eps", sampler(lambda m, v: torch.randn_like(m)), "z ignores the encoder")
case(C, "z = mu + eps", sampler(lambda m, v: m + torch.randn_like(m)), "noise is not scaled")
case(C, "z = mu + exp(logvar) * eps", sampler(lambda m, v: m + v.exp() * torch.randn_like(m)),
     "sigma^2, the variance")
case(C, "z = mu + logvar * eps", sampler(lambda m, v: m + v * torch.randn_like(m)),
     "scaled by logvar itself")
case(C, "z = mu + 1.1 sigma eps", sampler(lambda m, v: m + 1.1 * _sd(v) * torch.randn_like(m)),
     "wrong spread")
case(C, "z = mu + 0.1 + sigma eps", sampler(lambda m, v: m + 0.1 + _sd(v) * torch.randn_like(m)),
     "not centred on mu")
case(C, "uniform noise", sampler(lambda m, v: m + _sd(v) * torch.rand_like(m)), "uniform")
case(C, "uniform noise, mean 0 and sd 1", sampler(_uniform_standardised), "not standard normal")
case(C, "one eps shared by the batch", sampler(
    lambda m, v: m + _sd(v) * torch.randn(m.shape[1])), "the noise is shared")
case(C, "one eps shared by the latent dims", sampler(
    lambda m, v: m + _sd(v) * torch.randn(m.shape[0], 1)), "the noise is shared")
case(C, "reseeds on every call", ReseedsEveryCall, "the same z on every call")
case(C, "decodes a fixed label", DecodesFixedLabel, "other labels than the input's")
case(C, "decodes shuffled labels", DecodesShuffledLabels, "other labels than the input's")
case(C, "decoder ends in a sigmoid", decoder_end(torch.sigmoid), "one sign only")
case(C, "decoder ends in a ReLU", decoder_end(torch.relu), "one sign only")
case(C, "decoder ends in a tanh", decoder_end(torch.tanh), "saturates at ±1")
case(C, "mu head behind a ReLU", head(torch.relu, "mu"), "mu is never negative")
case(C, "logvar head behind a ReLU", head(torch.relu, "logvar"), "logvar is never negative")
case(C, "logvar head behind a softplus", head(F.softplus, "logvar"), "logvar is never negative")
case(C, "logvar = -softplus", head(lambda t: -F.softplus(t), "logvar"),
     "logvar is never positive")
case(C, "scales the caller's images in place", ScalesImageInPlace,
     "changed its argument `x` in place")
case(C, "encoder ignores the image", EncoderIgnoresImage, "the encoder ignores the image")
case(C, "decoder ignores z", DecoderIgnoresZ, "the decoder ignores z")
case(C, "logvar is mu (one head)", head(lambda t: t, "same"), "the same tensor as mu and logvar")
case(C, "label enters as a number", LabelAsNumber, "takes the label as a number")
case(C, "no nonlinearity between the layers", NoHiddenNonlinearity, "affine in x")
case(C, "decodes random labels", DecodesRandomLabels, "other labels than the input's")
case(C, "logvar head returns sigma = exp(...)", head(torch.exp, "logvar"),
     "logvar is never negative")
case(C, "one-hot codes relabelled consistently (y + 1) % 10", RelabelledOneHot)
case(C, "forward bypasses self.decode", InlineForwardSkipsDecode,
     "self.decode(z, y)")
# issue 19: gradients through the sample, and examples kept apart
case(C, "torch.normal (right values, zero gradient)", sampler(lambda m, v: torch.normal(m, _sd(v))),
     "no gradient reaches mu or logvar through the sample")
case(C, "Normal(...).sample()", sampler(
    lambda m, v: torch.distributions.Normal(m, _sd(v)).sample()), "the sample z carries no gradient")
case(C, "mu detached in the sample", sampler(lambda m, v: m.detach() + _sd(v) * torch.randn_like(m)),
     "mu is detached in the sample")
case(C, "logvar clamped to [-10, 10] in the sample", sampler(
    lambda m, v: m + _sd(v.clamp(-10, 10)) * torch.randn_like(m)), "clamps logvar")
case(C, "images flattened as x.reshape(784, -1).T", FlattensAcrossTheBatch,
     "the encoder mixes images across the batch")
case(C, "logits reshaped through .T", ReshapesLogitsAcrossTheBatch,
     "the decoder mixes examples across the batch")


# ---------------------------------------------------------------- schedules

L, Y = "check_linear_schedule", "check_cyclical_schedule"
case(L, "reference (the solution)", linear_schedule)
case(L, "numpy float64 (a float)", lambda s, w: np.float64(linear_schedule(s, w)))
case(L, "min(1, ...): the int 1 after the ramp", lambda s, w: 1 if w == 0 else min(1, s / w))
# issue 19: the task asks for a plain Python float; tensors and NumPy arrays are refused
case(L, "torch float32 tensor", lambda s, w: torch.tensor(linear_schedule(s, w),
                                                          dtype=torch.float32), "0-d tensor")
case(L, "numpy float32", lambda s, w: np.float32(linear_schedule(s, w)), "NumPy float32 scalar")
case(L, "clamp of a float32 tensor", lambda s, w: 1.0 if w == 0 else
     torch.clamp(torch.tensor(s / w, dtype=torch.float32), max=1.0), "0-d tensor")
case(L, "stub", stub, "implement `linear_schedule` first")
case(L, "off by one", lambda s, w: 1.0 if w == 0 else min(1.0, (s + 1) / w), "off by one")
case(L, "integer division", lambda s, w: 1.0 if w == 0 else min(1.0, s // w), "integer division")
case(L, "not capped", lambda s, w: 1.0 if w == 0 else s / w, "cap it with min(1.0")
case(L, "divides by zero", lambda s, w: min(1.0, s / w), "warmup_steps=0 means no annealing")
case(L, "NaN", lambda s, w: float("nan"), "finite number")
case(L, "divides by warmup + 1", lambda s, w: 1.0 if w == 0 else min(1.0, s / (w + 1)),
     "divide by warmup_steps itself")
case(L, "returns a list", lambda s, w: [s / max(w, 1)], "must return a number")
case(L, "returns a bool", lambda s, w: s >= w, "must return a number")
case(L, "slope 0.1% too steep: the digits show it", lambda s, w: 1.0 if w == 0 else
     min(1.0, 1.001 * s / w), "got 0.1001, expected 0.1")
case(L, "a floor at 0.1 (not an off-by-one)", lambda s, w: 1.0 if w == 0 else
     max(0.1, min(1.0, s / w)), "the weight has a floor")
case(L, "a 0-d NumPy array", lambda s, w: np.array(linear_schedule(s, w)), "NumPy array")
case(L, "a one-element NumPy array", lambda s, w: np.array([linear_schedule(s, w)]), "NumPy array")
case(Y, "reference (the solution)", cyclical_schedule)
case(Y, "numpy float64", lambda s, c, r=0.5: np.float64(cyclical_schedule(s, c, r)))
case(Y, "float32 tensor", lambda s, c, r=0.5: torch.tensor(cyclical_schedule(s, c, r)),
     "0-d tensor")
case(Y, "stub", stub, "implement `cyclical_schedule` first")
case(Y, "never restarts", lambda s, c, r=0.5: min(1.0, s / (r * c)), "never restarts")
case(Y, "off by one", lambda s, c, r=0.5: min(1.0, (s % c + 1) / (r * c)), "off by one")
case(Y, "ratio ignored", lambda s, c, r=0.5: min(1.0, (s % c) / (0.5 * c)), "ratio is ignored")
case(Y, "ramp over whole cycle", lambda s, c, r=0.5: (s % c) / c, "ramp takes the whole cycle")
case(Y, "not capped", lambda s, c, r=0.5: (s % c) / (r * c), "cap it with min(1.0")
case(Y, "NaN", lambda s, c, r=0.5: float("nan"), "finite number")
case(Y, "period hard-coded to 8", lambda s, c, r=0.5: min(1.0, (s % 8) / (r * c)),
     "repeats every 8 steps")
case(Y, "stops after 4 cycles", lambda s, c, r=0.5: 1.0 if s >= 4 * c else cyclical_schedule(s, c, r),
     "stops cycling after 4 cycles")
case(Y, "a one-element NumPy array", lambda s, c, r=0.5: np.array([cyclical_schedule(s, c, r)]),
     "NumPy array of shape (1,)")


# ---------------------------------------------------------------- reconstruction terms


def _gauss_pp(mean, x, log_sigma):
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype)
    return 0.5 * ((x - mean) * torch.exp(-log_sigma)) ** 2 + log_sigma + 0.5 * LOG_2PI


def _gauss_distributions(mean, x, log_sigma):
    sigma = torch.exp(torch.as_tensor(log_sigma, dtype=mean.dtype))
    return -torch.distributions.Normal(mean, sigma).log_prob(x).flatten(1).sum(1)


def _gauss_nll_loss(mean, x, log_sigma):
    var = torch.exp(2 * torch.as_tensor(log_sigma, dtype=mean.dtype)).expand_as(mean)
    return F.gaussian_nll_loss(mean, x, var, full=True, reduction="none").flatten(1).sum(1)


def _gauss_float32(mean, x, log_sigma):
    log_sigma = torch.as_tensor(log_sigma, dtype=torch.float32)
    return gaussian_recon(mean.float(), x.float(), log_sigma)


def _gauss_subtracts_in_place(mean, x, log_sigma):
    diff = x.sub_(mean)                                   # x -= mean on the caller's x
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype)
    return (0.5 * (diff * torch.exp(-log_sigma)) ** 2 + log_sigma
            + 0.5 * LOG_2PI).flatten(1).sum(1)


def _gauss_squares_mean_in_place(mean, x, log_sigma):
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype)
    sq = mean.sub_(x).pow_(2)                             # reuses the caller's mean as a buffer
    return (0.5 * sq * torch.exp(-2 * log_sigma) + log_sigma + 0.5 * LOG_2PI).flatten(1).sum(1)


G = "check_gaussian_recon"
case(G, "reference (the solution)", gaussian_recon)
case(G, "torch.distributions.Normal", _gauss_distributions)
case(G, "F.gaussian_nll_loss(full=True)", _gauss_nll_loss)
case(G, "float32 answer", _gauss_float32)
case(G, "stub", stub, "implement `gaussian_recon` first")
case(G, "mean over pixels", lambda m, x, s: _gauss_pp(m, x, s).flatten(1).mean(1),
     "mean over pixels")
case(G, "no constant", lambda m, x, s: (0.5 * ((x - m) / math.exp(float(s))) ** 2)
     .flatten(1).sum(1), "normalising constant is missing")
case(G, "sign flipped", lambda m, x, s: -_gauss_pp(m, x, s).flatten(1).sum(1), "wrong sign")
case(G, "no factor 1/2", lambda m, x, s: (((x - m) / math.exp(float(s))) ** 2 + float(s)
                                          + 0.5 * LOG_2PI).flatten(1).sum(1), "factor 1/2")
case(G, "sigma not squared", lambda m, x, s: (0.5 * (x - m) ** 2 / math.exp(float(s)) + float(s)
                                              + 0.5 * LOG_2PI).flatten(1).sum(1),
     "divide the squared error by sigma^2")
case(G, "log_sigma used as sigma", lambda m, x, s: (0.5 * ((x - m) / float(s)) ** 2
                                                    + math.log(abs(float(s))) + 0.5 * LOG_2PI
                                                    ).flatten(1).sum(1),
     "log_sigma is used as sigma")
case(G, "batch summed", lambda m, x, s: _gauss_pp(m, x, s).sum(), "single number")
case(G, "sigma hard-coded", lambda m, x, s: _gauss_pp(m, x, -1.2).flatten(1).sum(1),
     "is a sigma hard-coded")
case(G, "float(log_sigma)", lambda m, x, s: _gauss_pp(m, x, float(s.mean()) if torch.is_tensor(s)
                                                      else s).flatten(1).sum(1), "broadcast")
case(G, "gradient cut", lambda m, x, s: _gauss_pp(m, x, s.detach() if torch.is_tensor(s) else s)
     .flatten(1).sum(1), "no gradient reaches `log_sigma`")
case(G, "mean detached", lambda m, x, s: _gauss_pp(m.detach(), x, s).flatten(1).sum(1),
     "no gradient flows back from gaussian_recon(...) to `mean`")
# issue 8: a right value computed by modifying the caller's tensors
case(G, "x -= mean in place", _gauss_subtracts_in_place, "changed its argument `x` in place")
case(G, "mean used as a buffer", _gauss_squares_mean_in_place,
     "changed its argument `mean` in place")
case(G, "float64 result for float32 inputs", lambda m, x, s: gaussian_recon(
    m.double(), x.double(), s), "returns torch.float64 for float32")
case(G, "log_sigma taken as log(sigma^2)", lambda m, x, s: (
    0.5 * (x - m) ** 2 / torch.exp(torch.as_tensor(s, dtype=m.dtype)) + 0.5 * torch.as_tensor(s)
    + 0.5 * LOG_2PI).flatten(1).sum(1), "log(sigma^2)")
case(G, "constant log(2 pi) without the 1/2", lambda m, x, s: (
    _gauss_pp(m, x, s) + 0.5 * LOG_2PI).flatten(1).sum(1), "not log(2 pi)")
case(G, "constant 0.5 * log(2 pi) rounded to 0.92",
     lambda m, x, s: (_gauss_pp(m, x, s) - 0.5 * LOG_2PI + 0.92).flatten(1).sum(1),
     "expected [")


def _bernoulli_float32(logits, x):
    return bernoulli_recon(logits.float(), x.float())


N = "check_bernoulli_recon"
case(N, "reference (the solution)", bernoulli_recon)
case(N, "torch.distributions.Bernoulli(logits=...)", lambda l, x: -torch.distributions.Bernoulli(
    logits=l, validate_args=False).log_prob(x).flatten(1).sum(1))
case(N, "log-sigmoids", lambda l, x: -(x * F.logsigmoid(l) + (1 - x) * F.logsigmoid(-l))
     .flatten(1).sum(1))
case(N, "softplus(l) - x l", lambda l, x: (F.softplus(l) - x * l).flatten(1).sum(1))
case(N, "float32 answer", _bernoulli_float32)
case(N, "stub", stub, "implement `bernoulli_recon` first")
case(N, "mean over pixels", lambda l, x: _bce(l, x).flatten(1).mean(1), "mean over pixels")
case(N, "sign flipped", lambda l, x: -BCE_SUM(l, x), "wrong sign")
case(N, "sigmoid twice", lambda l, x: BCE_SUM(torch.sigmoid(l), x), "applies the sigmoid twice")
case(N, "naive log of sigmoid", _naive_bce, "NaN/inf for large logits")
case(N, "clamped probabilities", lambda l, x: F.binary_cross_entropy(
    torch.sigmoid(l).clamp(1e-7, 1 - 1e-7), x, reduction="none").flatten(1).sum(1),
    "inexact for large logits")
case(N, "targets swapped", lambda l, x: BCE_SUM(l, 1 - x), "swaps x and 1 - x")
case(N, "batch summed", lambda l, x: _bce(l, x).sum(), "single number")
case(N, "not summed", lambda l, x: _bce(l, x), "expected (3,)")
case(N, "gradient cut", lambda l, x: BCE_SUM(l.detach(), x), "no gradient flows back")
case(N, "log1p(exp(l)): inf in float32 at l = 100", lambda l, x: -(x * l - torch.log1p(torch.exp(l)))
     .flatten(1).sum(1), "overflows for float32 logits of ±100")
case(N, "float64 result for float32 inputs", lambda l, x: BCE_SUM(l.double(), x.double()),
     "returns torch.float64 for float32")
case(N, "torch.distributions.Bernoulli validating grey levels", lambda l, x: -torch.distributions
     .Bernoulli(logits=l).log_prob(x).flatten(1).sum(1), "outside a Bernoulli's support {0, 1}")
case(N, "logits clamped in place", lambda l, x: BCE_SUM(l.clamp_(-20, 20), x),
     "changed its argument `l` in place")


# ---------------------------------------------------------------- the table


@pytest.mark.parametrize("checker, answer, expect", CASES)
def test_checker_verdict(checker, answer, expect, capsys):
    check = getattr(checks, checker)
    if expect is PASS:
        check(answer)
        assert capsys.readouterr().out == RECORDED[checker], "the line the solution recorded"
        return
    with pytest.raises(AssertionError) as err:
        check(answer)
    message = str(err.value)
    assert expect in message, f"expected the hint {expect!r}, got: {message}"
    assert "\n" not in message, "a hint is one line"
    assert not message.startswith("internal error")


def test_the_table_covers_every_checker_with_right_and_wrong_answers():
    verdicts = {}
    for param in CASES:
        checker, _, expect = param.values
        verdicts.setdefault(checker, set()).add(expect is PASS)
    elsewhere = {"check_rate_distortion", "check_active_units",  # tests/test_checks_latent_size.py
                 "require_passed"}                               # not a checker: tested below
    assert sorted(verdicts) == sorted(set(checks.__all__) - elsewhere) == sorted(RECORDED)
    assert all(kinds == {True, False} for kinds in verdicts.values())


def test_references_come_from_the_solution_notebooks():
    for name, (namespace, recorded) in SOLUTIONS.items():
        assert recorded, f"{name}: no recorded check line"
        for checker in recorded:
            assert RECORDED[checker].endswith(" checks passed\n")
    assert beta_vae_loss.__code__.co_filename == "solutions/beta_vae.ipynb"
    assert CVAE.forward.__code__.co_filename == "solutions/conditional_vae.ipynb"


# ---------------------------------------------------------------- the harness


@pytest.mark.parametrize("dtype, rtol", [
    (torch.float64, 1e-6), (torch.float32, 1.1921e-4), (torch.float16, 0.03125),
    (torch.bfloat16, 0.0883883), (torch.int64, 1e-6)])
def test_tolerance_is_half_the_digits_of_the_answers_dtype_and_at_least_1e6(dtype, rtol):
    assert _harness.answer_rtol(torch.zeros(2, dtype=dtype)) == pytest.approx(rtol, rel=1e-4)


def test_tolerance_of_python_and_numpy_numbers():
    assert _harness.answer_rtol(0.5) == _harness.answer_rtol(np.float64(0.5)) == 1e-6
    assert _harness.answer_rtol(np.float32(0.5)) == pytest.approx(1.1921e-4, rel=1e-4)


def test_close_is_relative_for_large_values_and_absolute_near_zero():
    assert _harness.close(torch.tensor([1000.0 * (1 + 1e-4)]), torch.tensor([1000.0]))
    assert not _harness.close(torch.tensor([1000.0 * (1 + 2e-4)]), torch.tensor([1000.0]))
    assert _harness.close(torch.tensor([1e-4]), torch.tensor([0.0]))
    assert not _harness.close(torch.tensor([2e-4]), torch.tensor([0.0]))
    assert not _harness.close(torch.tensor([0.5], dtype=torch.float64), 0.5 + 3e-6)
    assert not _harness.close(torch.zeros(2), torch.zeros(3)), "shapes must agree"


def test_compare_prints_enough_digits_to_show_the_difference():
    assert _harness.compare(np.float32(0.4) + np.float32(3e-7), 0.4) == \
        "got 0.4000003, expected 0.4"
    assert _harness.compare(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.5001])) == \
        "got [1, 2.5], expected [1, 2.5001]"


def test_the_checker_counts_the_steps_it_ran_and_prints_one_line(capsys):
    c = _harness.Checker("demo", "f")
    for what in ("a", "b", "c"):
        with c.step(what):
            pass
    with pytest.raises(AssertionError, match="demo: no"):
        with c.step("d"):
            c.fail("no")
    c.passed()
    assert capsys.readouterr().out == "demo: 3/3 checks passed\n"


def test_a_learner_exception_becomes_a_one_line_hint_with_the_cause_chained():
    def buggy(logits, x):
        return logits @ x  # shapes do not allow a matrix product

    with pytest.raises(AssertionError) as err:
        checks.check_bernoulli_recon(buggy)
    assert "calling `bernoulli_recon` raised RuntimeError" in str(err.value)
    assert isinstance(err.value.__cause__, RuntimeError)


def test_the_cvae_checker_leaves_the_global_random_state_alone(capsys):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    checks.check_cvae(CVAE)
    assert torch.equal(torch.get_rng_state(), before)


def _linear_schedule(step, warmup_steps):
    return 1.0 if warmup_steps == 0 else min(1.0, step / warmup_steps)


def test_require_passed_stops_a_cell_until_the_named_checks_pass_in_this_kernel(monkeypatch, capsys):
    monkeypatch.setattr(checks, "_PASSED", set())        # a fresh kernel
    need = (checks.check_linear_schedule, checks.check_cyclical_schedule)
    with pytest.raises(AssertionError, match="check_linear_schedule and check_cyclical_schedule "
                                             "have not passed in this kernel: fix your answer"):
        checks.require_passed(*need)
    checks.check_linear_schedule(_linear_schedule)
    checks.require_passed(checks.check_linear_schedule)
    with pytest.raises(AssertionError, match="^check_cyclical_schedule has not passed"):
        checks.require_passed(*need)
    # A later failing run of the same check takes its pass back.
    with pytest.raises(AssertionError, match="linear schedule"):
        checks.check_linear_schedule(lambda step, warmup_steps: 0.5)
    with pytest.raises(AssertionError, match="^check_linear_schedule has not passed"):
        checks.require_passed(checks.check_linear_schedule)
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [(), (print,), ("check_linear_schedule",),
                                 (_harness.Checker,), (checks.check_cvae, None)])
def test_require_passed_takes_only_the_course_checks(bad):
    with pytest.raises(TypeError, match="require_passed"):
        checks.require_passed(*bad)


def test_every_checks_module_declares_its_public_names():
    import importlib

    for module in ("beta_vae", "conditional_vae", "kl_annealing", "latent_size", "mse_vs_bce",
                   "_harness"):
        mod = importlib.import_module(f"course_utils.checks.{module}")
        assert mod.__all__ and all(hasattr(mod, name) for name in mod.__all__)
    assert all(callable(getattr(checks, name)) for name in checks.__all__)


def test_a_regular_install_ships_the_checks_package():
    import tomllib

    # `pip install git+...` (Colab) installs only the packages pyproject lists; the notebooks'
    # `from course_utils import checks` needs the subpackage too.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = config.get("packages", [])
    assert "course_utils.checks" in listed or isinstance(listed, dict), \
        'pyproject.toml: [tool.setuptools] packages must list "course_utils.checks"'
