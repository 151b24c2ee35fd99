"""Per-example loss terms of a VAE, in nats.

Convention used across the course: every function returns one number per example, shape
``(batch,)``, *summed* over all other dimensions (pixels, latent dimensions). The batch is
averaged only where the optimiser needs a scalar. A number printed from these is therefore
"nats per image".
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def _check_same_shape(name_a, a, name_b, b):
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {tuple(a.shape)} but {name_b} has shape "
                         f"{tuple(b.shape)}; they must match (batch first).")
    if a.dim() < 1:
        raise ValueError(f"{name_a} needs a batch dimension, got a scalar.")


def _full_precision(t: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 (mixed precision) -> float32; float32/float64 unchanged."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _sum_per_example(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1).sum(dim=1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(logvar)) || N(0, I) ) per example, in nats.

    Closed form for a diagonal Gaussian, summed over latent dimensions::

        KL = -1/2 * sum_j (1 + logvar_j - mu_j**2 - exp(logvar_j))

    Args:
        mu: ``(batch, latent_dim)`` posterior means.
        logvar: ``(batch, latent_dim)`` posterior log-variances (natural log).
    Returns:
        ``(batch,)`` KL divergence, nats, always >= 0.
    """
    _check_same_shape("mu", mu, "logvar", logvar)
    mu, logvar = _full_precision(mu), _full_precision(logvar)
    return -0.5 * _sum_per_example(1 + logvar - mu.pow(2) - logvar.exp())


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) per example under a Bernoulli decoder, in nats.

    Computed from logits (numerically stable binary cross-entropy), summed over pixels.
    ``x`` may be grey levels in [0, 1], as in the PyTorch VAE example; then the value is a
    cross-entropy (the course's "grey-level MNIST" numbers), not a normalised likelihood.

    Args:
        logits: ``(batch, ...)`` decoder outputs before the sigmoid.
        x: targets in [0, 1], same shape as ``logits``.
    Returns:
        ``(batch,)`` nats per example.
    """
    _check_same_shape("logits", logits, "x", x)
    logits = _full_precision(logits)
    nll = F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none")
    return _sum_per_example(nll)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, log_sigma) -> torch.Tensor:
    """-log N(x | mean, sigma^2 I) per example, in nats, *including* the constant.

    Per dimension: ``0.5 * ((x - mean) / sigma)**2 + log_sigma + 0.5 * log(2 pi)``, summed.

    Args:
        mean: ``(batch, ...)`` decoder means.
        x: targets, same shape as ``mean``.
        log_sigma: log standard deviation (natural log): a float, or a tensor that
            broadcasts against ``mean`` (a learned scalar, one per pixel, or per example).
    Returns:
        ``(batch,)`` nats per example.
    """
    _check_same_shape("mean", mean, "x", x)
    mean = _full_precision(mean)
    x = x.to(mean.dtype)
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    per_dim = 0.5 * ((x - mean) * torch.exp(-log_sigma)).pow(2) + log_sigma + 0.5 * LOG_2PI
    return _sum_per_example(per_dim)


def negative_elbo(recon_nll: torch.Tensor, kl: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """The loss a VAE minimises: ``recon_nll + beta * kl`` per example (nats).

    Maximising the ELBO = minimising this with ``beta = 1``: then it is an upper bound on
    -log p(x) (in expectation over z ~ q). ``beta != 1`` gives the β-VAE objective. With
    ``beta > 1`` it is still an upper bound on -log p(x), only a looser one (the KL, which is
    >= 0, is counted ``beta`` times); with ``beta < 1`` it is no bound at all.

    Args:
        recon_nll: ``(batch,)`` -log p(x|z), nats.
        kl: ``(batch,)`` KL(q(z|x) || p(z)), nats.
    Returns:
        ``(batch,)`` nats.
    """
    _check_same_shape("recon_nll", recon_nll, "kl", kl)
    return recon_nll + beta * kl


def vae_loss(model, x: torch.Tensor, y=None, beta: float = 1.0) -> dict:
    """Loss terms of a Bernoulli-decoder VAE on a batch, for :func:`course_utils.train.fit`.

    ``model(x)`` must return ``(logits, mu, logvar)`` with z *sampled* inside. Returns a dict
    of ``(batch,)`` tensors in nats: ``loss`` (negative ELBO), ``recon`` and ``kl``.
    """
    logits, mu, logvar = model(x)
    recon = bernoulli_nll(logits, x)
    kl = gaussian_kl(_full_precision(mu), _full_precision(logvar))
    return {"loss": negative_elbo(recon, kl, beta), "recon": recon, "kl": kl}


def autoencoder_loss(model, x: torch.Tensor, y=None) -> dict:
    """Reconstruction loss of a deterministic autoencoder, for :func:`course_utils.train.fit`.

    ``model(x)`` must return ``(logits, z)``. Returns ``{"loss": (batch,)}``: the Bernoulli
    negative log-likelihood (binary cross-entropy summed over pixels), nats per image, so
    that the number compares directly with a VAE's reconstruction term.
    """
    logits, _ = model(x)
    return {"loss": bernoulli_nll(logits, x)}
