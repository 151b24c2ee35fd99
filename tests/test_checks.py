"""The exercise checkers accept the reference answers and reject known-wrong ones.

Every checker is run on the reference implementation (the code of the solution notebooks)
and on typical mistakes; each mistake must fail with an ``AssertionError`` whose one-line
message names it.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import checks

# ---------------------------------------------------------------- references (= solutions)


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}


class CVAE(nn.Module):
    def __init__(self, latent_dim=2, num_classes=10, hidden_dim=400):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.body = nn.Sequential(nn.Linear(784 + num_classes, hidden_dim), nn.ReLU())
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim + num_classes, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, 784))

    def one_hot(self, y, like):
        return F.one_hot(y, self.num_classes).to(like)

    def encode(self, x, y):
        h = self.body(torch.cat([x.flatten(1), self.one_hot(y, x)], dim=1))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z, y):
        return self.decoder(torch.cat([z, self.one_hot(y, z)], dim=1)).view(-1, 1, 28, 28)

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z, y), mu, logvar


def linear_schedule(step, warmup_steps):
    if warmup_steps == 0:
        return 1.0
    return min(1.0, step / warmup_steps)


def cyclical_schedule(step, cycle_steps, ratio=0.5):
    return min(1.0, (step % cycle_steps) / (ratio * cycle_steps))


def gaussian_recon(mean, x, log_sigma):
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    per_pixel = (0.5 * ((x - mean) * torch.exp(-log_sigma)) ** 2 + log_sigma
                 + 0.5 * math.log(2 * math.pi))
    return per_pixel.flatten(1).sum(1)


def bernoulli_recon(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def stub(*args, **kwargs):
    raise NotImplementedError("write the code")


def assert_rejected(checker, wrong, hint):
    with pytest.raises(AssertionError) as err:
        checker(wrong)
    message = str(err.value)
    assert hint in message, f"expected the hint {hint!r}, got: {message}"
    assert "\n" not in message, "a hint is one line"


# ---------------------------------------------------------------- β-VAE loss


def _terms(recon, kl, loss):
    return {"loss": loss, "recon": recon, "kl": kl}


def _bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none")


def _kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


BETA_WRONG = {
    "beta ignored": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).flatten(1).sum(1), k := _kl(m, v).sum(1), r + k), "beta is ignored"),
    "beta on recon": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).flatten(1).sum(1), k := _kl(m, v).sum(1), b * r + k),
        "beta is applied to the reconstruction term"),
    "KL sign flipped": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).flatten(1).sum(1), k := -_kl(m, v).sum(1), r + b * k), "KL sign flipped"),
    "mean over pixels": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).flatten(1).mean(1), k := _kl(m, v).sum(1), r + b * k),
        "mean over pixels"),
    "mean over latents": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).flatten(1).sum(1), k := _kl(m, v).mean(1), r + b * k),
        "mean over latent dimensions"),
    "batch reduced": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).sum(), k := _kl(m, v).sum(), r + b * k), "single number"),
    "NaN": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).flatten(1).sum(1) * float("nan"), k := _kl(m, v).sum(1), r + b * k),
        "NaN"),
    "sigmoid twice": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(torch.sigmoid(l), x).flatten(1).sum(1), k := _kl(m, v).sum(1), r + b * k),
        "sigmoid twice"),
    "logvar as log sigma": (lambda l, x, m, v, b=1.0: _terms(
        r := _bce(l, x).flatten(1).sum(1),
        k := -0.5 * (1 + 2 * v - m**2 - v.exp() ** 2).sum(1), r + b * k), "log(sigma^2)"),
    "tuple returned": (lambda l, x, m, v, b=1.0: (l, x), "return a dict"),
}


def test_beta_vae_checker_accepts_the_reference(capsys):
    checks.check_beta_vae_loss(beta_vae_loss)
    assert capsys.readouterr().out == "β-VAE loss: 5/5 checks passed\n"


@pytest.mark.parametrize("mistake", sorted(BETA_WRONG))
def test_beta_vae_checker_names_the_mistake(mistake):
    wrong, hint = BETA_WRONG[mistake]
    assert_rejected(checks.check_beta_vae_loss, wrong, hint)


def test_beta_vae_checker_asks_to_implement_a_stub():
    assert_rejected(checks.check_beta_vae_loss, stub, "implement `beta_vae_loss` first")


# ---------------------------------------------------------------- conditional VAE


class EncoderIgnoresLabel(CVAE):
    def encode(self, x, y):
        h = self.body(torch.cat([x.flatten(1), torch.zeros_like(self.one_hot(y, x))], dim=1))
        return self.to_mu(h), self.to_logvar(h)


class DecoderIgnoresLabel(CVAE):
    def decode(self, z, y):
        return super().decode(z, torch.zeros_like(y))


class DecodesMean(CVAE):
    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        return self.decode(mu, y), mu, logvar


class FlatLogits(CVAE):
    def decode(self, z, y):
        return super().decode(z, y).flatten(1)


class MixesExamples(CVAE):
    def decode(self, z, y):
        return super().decode(z, y[:1].expand_as(y))


class NaNLogits(CVAE):
    def decode(self, z, y):
        return super().decode(z, y) * float("nan")


class WrongLatentShape(CVAE):
    def encode(self, x, y):
        mu, logvar = super().encode(x, y)
        return mu[:, :1], logvar[:, :1]


CVAE_WRONG = {
    "encoder ignores label": (EncoderIgnoresLabel, "the encoder ignores the label"),
    "decoder ignores label": (DecoderIgnoresLabel, "the decoder ignores the label"),
    "decodes mu": (DecodesMean, "sample z = mu + exp(logvar / 2)"),
    "flat logits": (FlatLogits, "expected (4, 1, 28, 28)"),
    "mixes examples": (MixesExamples, "the decoder mixes examples"),
    "NaN": (NaNLogits, "NaN"),
    "wrong latent shape": (WrongLatentShape, "expected (4, 3)"),
}


def test_cvae_checker_accepts_the_reference(capsys):
    checks.check_cvae(CVAE)
    assert capsys.readouterr().out == "Conditional VAE: 5/5 checks passed\n"


@pytest.mark.parametrize("mistake", sorted(CVAE_WRONG))
def test_cvae_checker_names_the_mistake(mistake):
    wrong, hint = CVAE_WRONG[mistake]
    assert_rejected(checks.check_cvae, wrong, hint)


def test_cvae_checker_asks_to_implement_a_stub():
    class Stub(nn.Module):
        def __init__(self, latent_dim=2, num_classes=10, hidden_dim=400):
            super().__init__()
            raise NotImplementedError("layers")

    assert_rejected(checks.check_cvae, Stub, "implement `CVAE` first")


# ---------------------------------------------------------------- schedules

LINEAR_WRONG = {
    "off by one": (lambda s, w: 1.0 if w == 0 else min(1.0, (s + 1) / w), "off by one"),
    "integer division": (lambda s, w: 1.0 if w == 0 else min(1.0, s // w), "integer division"),
    "not capped": (lambda s, w: 1.0 if w == 0 else s / w, "cap it with min(1.0"),
    "divides by zero": (lambda s, w: min(1.0, s / w), "warmup_steps=0 means no annealing"),
    "NaN": (lambda s, w: float("nan"), "finite number"),
    "divides by warmup + 1": (lambda s, w: 1.0 if w == 0 else min(1.0, s / (w + 1)),
                              "divide by warmup_steps itself"),
    "returns a list": (lambda s, w: [s / max(w, 1)], "must return a number"),
}

CYCLICAL_WRONG = {
    "never restarts": (lambda s, c, r=0.5: min(1.0, s / (r * c)), "never restarts"),
    "off by one": (lambda s, c, r=0.5: min(1.0, (s % c + 1) / (r * c)), "off by one"),
    "ratio ignored": (lambda s, c, r=0.5: min(1.0, (s % c) / (0.5 * c)), "ratio is ignored"),
    "ramp over whole cycle": (lambda s, c, r=0.5: (s % c) / c, "ramp takes the whole cycle"),
    "not capped": (lambda s, c, r=0.5: (s % c) / (r * c), "cap it with min(1.0"),
    "NaN": (lambda s, c, r=0.5: float("nan"), "finite number"),
}


def test_linear_schedule_checker_accepts_the_reference(capsys):
    checks.check_linear_schedule(linear_schedule)
    assert capsys.readouterr().out == "linear schedule: 5/5 checks passed\n"


@pytest.mark.parametrize("mistake", sorted(LINEAR_WRONG))
def test_linear_schedule_checker_names_the_mistake(mistake):
    wrong, hint = LINEAR_WRONG[mistake]
    assert_rejected(checks.check_linear_schedule, wrong, hint)


def test_cyclical_schedule_checker_accepts_the_reference(capsys):
    checks.check_cyclical_schedule(cyclical_schedule)
    assert capsys.readouterr().out == "cyclical schedule: 5/5 checks passed\n"


@pytest.mark.parametrize("mistake", sorted(CYCLICAL_WRONG))
def test_cyclical_schedule_checker_names_the_mistake(mistake):
    wrong, hint = CYCLICAL_WRONG[mistake]
    assert_rejected(checks.check_cyclical_schedule, wrong, hint)


def test_schedule_checkers_ask_to_implement_a_stub():
    assert_rejected(checks.check_linear_schedule, stub, "implement `linear_schedule` first")
    assert_rejected(checks.check_cyclical_schedule, stub, "implement `cyclical_schedule` first")


def test_schedule_checkers_accept_tensor_and_numpy_numbers(capsys):
    import numpy as np

    checks.check_linear_schedule(lambda s, w: torch.tensor(linear_schedule(s, w)))
    checks.check_cyclical_schedule(lambda s, c, r=0.5: np.float64(cyclical_schedule(s, c, r)))
    assert capsys.readouterr().out.count("5/5 checks passed") == 2


# ---------------------------------------------------------------- reconstruction terms

LOG_2PI = math.log(2 * math.pi)


def _gauss_pp(mean, x, log_sigma):
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype)
    return 0.5 * ((x - mean) * torch.exp(-log_sigma)) ** 2 + log_sigma + 0.5 * LOG_2PI


GAUSSIAN_WRONG = {
    "mean over pixels": (lambda m, x, s: _gauss_pp(m, x, s).flatten(1).mean(1), "mean over pixels"),
    "no constant": (lambda m, x, s: (0.5 * ((x - m) / math.exp(float(s))) ** 2).flatten(1).sum(1),
                    "normalising constant is missing"),
    "sign flipped": (lambda m, x, s: -_gauss_pp(m, x, s).flatten(1).sum(1), "sign flipped"),
    "no factor 1/2": (lambda m, x, s: (((x - m) / math.exp(float(s))) ** 2 + float(s)
                                       + 0.5 * LOG_2PI).flatten(1).sum(1), "factor 1/2"),
    "sigma not squared": (lambda m, x, s: (0.5 * (x - m) ** 2 / math.exp(float(s)) + float(s)
                                           + 0.5 * LOG_2PI).flatten(1).sum(1),
                          "divide the squared error by sigma^2"),
    "log_sigma used as sigma": (lambda m, x, s: (0.5 * ((x - m) / float(s)) ** 2
                                                 + math.log(abs(float(s))) + 0.5 * LOG_2PI
                                                 ).flatten(1).sum(1),
                                "log_sigma is used as sigma"),
    "batch summed": (lambda m, x, s: _gauss_pp(m, x, s).sum(), "single number"),
    "sigma hard-coded": (lambda m, x, s: _gauss_pp(m, x, -1.2).flatten(1).sum(1),
                         "is a sigma hard-coded"),
    "float(log_sigma)": (lambda m, x, s: _gauss_pp(m, x, float(s.mean()) if torch.is_tensor(s)
                                                   else s).flatten(1).sum(1), "broadcast"),
    "gradient cut": (lambda m, x, s: _gauss_pp(m, x, s.detach() if torch.is_tensor(s) else s)
                     .flatten(1).sum(1), "no gradient reaches log_sigma"),
}

BERNOULLI_WRONG = {
    "mean over pixels": (lambda l, x: _bce(l, x).flatten(1).mean(1), "mean over pixels"),
    "sign flipped": (lambda l, x: -_bce(l, x).flatten(1).sum(1), "sign flipped"),
    "sigmoid twice": (lambda l, x: _bce(torch.sigmoid(l), x).flatten(1).sum(1), "sigmoid is applied twice"),
    "naive log of sigmoid": (lambda l, x: -(x * torch.log(torch.sigmoid(l)) + (1 - x)
                                            * torch.log(1 - torch.sigmoid(l))).flatten(1).sum(1),
                             "NaN/inf for large logits"),
    "clamped probabilities": (lambda l, x: F.binary_cross_entropy(
        torch.sigmoid(l).clamp(1e-7, 1 - 1e-7), x, reduction="none").flatten(1).sum(1),
        "inexact for large logits"),
    "targets swapped": (lambda l, x: _bce(l, 1 - x).flatten(1).sum(1), "swapped"),
    "batch summed": (lambda l, x: _bce(l, x).sum(), "single number"),
    "not summed": (lambda l, x: _bce(l, x), "expected (3,)"),
    "gradient cut": (lambda l, x: _bce(l.detach(), x).flatten(1).sum(1), "no gradient reaches the logits"),
}


def test_gaussian_checker_accepts_the_reference(capsys):
    checks.check_gaussian_recon(gaussian_recon)
    assert capsys.readouterr().out == "Gaussian reconstruction: 5/5 checks passed\n"


@pytest.mark.parametrize("mistake", sorted(GAUSSIAN_WRONG))
def test_gaussian_checker_names_the_mistake(mistake):
    wrong, hint = GAUSSIAN_WRONG[mistake]
    assert_rejected(checks.check_gaussian_recon, wrong, hint)


def test_bernoulli_checker_accepts_the_reference(capsys):
    checks.check_bernoulli_recon(bernoulli_recon)
    assert capsys.readouterr().out == "Bernoulli reconstruction: 5/5 checks passed\n"


@pytest.mark.parametrize("mistake", sorted(BERNOULLI_WRONG))
def test_bernoulli_checker_names_the_mistake(mistake):
    wrong, hint = BERNOULLI_WRONG[mistake]
    assert_rejected(checks.check_bernoulli_recon, wrong, hint)


def test_reconstruction_checkers_ask_to_implement_a_stub():
    assert_rejected(checks.check_gaussian_recon, stub, "implement `gaussian_recon` first")
    assert_rejected(checks.check_bernoulli_recon, stub, "implement `bernoulli_recon` first")


def test_a_learner_exception_becomes_a_one_line_hint_with_the_cause_chained():
    def buggy(logits, x):
        return logits @ x  # shapes do not allow a matrix product

    with pytest.raises(AssertionError) as err:
        checks.check_bernoulli_recon(buggy)
    assert "calling `bernoulli_recon` raised RuntimeError" in str(err.value)
    assert isinstance(err.value.__cause__, RuntimeError)


def test_cvae_checker_names_the_unfinished_method():
    class EncodeStub(CVAE):
        def encode(self, x, y):
            raise NotImplementedError("concatenate one_hot(y) to the image")

    assert_rejected(checks.check_cvae, EncodeStub, "implement `CVAE.encode` first")
    assert_rejected(checks.check_cvae, EncodeStub, "concatenate one_hot(y) to the image")
