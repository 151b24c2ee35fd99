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

from ._validate import ArgumentTypeError, got, real_number, tensor

__all__ = ["LOG_2PI", "gaussian_kl", "gaussian_kl_per_dim", "bernoulli_nll", "gaussian_nll",
           "negative_elbo", "vae_loss", "autoencoder_loss"]

LOG_2PI = math.log(2 * math.pi)  # the course's one definition; metrics and checks import it


def _check_same_shape(name_a, a, name_b, b, *, floating_a=True, floating_b=True):
    """Both tensors (floating point where asked), with the same shape and a batch dimension."""
    tensor(name_a, a, floating=floating_a)
    tensor(name_b, b, floating=floating_b)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {tuple(a.shape)} but {name_b} has shape "
                         f"{tuple(b.shape)}; they must match (batch first).")
    if a.dim() < 1:
        raise ValueError(f"{name_a} needs a batch dimension, got a scalar.")


def _to_float32(t: torch.Tensor) -> torch.Tensor:
    """Cast float16/bfloat16 (mixed precision) to float32; float32/float64 stay unchanged."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _check_unit_interval(name: str, x: torch.Tensor) -> None:
    """Raise unless ``x`` holds values in [0, 1] (NaN is left to the NaN checks downstream)."""
    if x.numel() == 0:
        return
    lo, hi = (float(v) for v in torch.aminmax(x.detach().float()))
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"{name} must hold pixel values in [0, 1] for a Bernoulli likelihood, got "
                         f"values from {lo:g} to {hi:g} (dtype {x.dtype}); scale 0..255 pixels "
                         "first: x = x.float() / 255.")


def _check_beta(beta):
    """``beta`` as a float >= 0, or a one-element floating tensor (e.g. a scheduled value)."""
    if isinstance(beta, torch.Tensor):
        if beta.numel() != 1 or not beta.is_floating_point():
            raise ArgumentTypeError(f"beta must be a number >= 0 (the KL weight), got "
                                    f"{got(beta)}; pass a float, e.g. beta=4.0.")
        return beta
    return real_number("beta", beta, minimum=0.0, what="the KL weight; 1 is the ELBO")


def _sum_per_example(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1).sum(dim=1)


def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu_j, exp(logvar_j)) || N(0, 1) ) for every example and latent dimension, nats.

    The closed form of the course, written once::

        KL_j = -1/2 * (1 + logvar_j - mu_j**2 - exp(logvar_j))

    Args:
        mu: ``(batch, latent_dim)`` posterior means.
        logvar: ``(batch, latent_dim)`` posterior log-variances (natural log).
    Returns:
        ``(batch, latent_dim)`` nats, each >= 0 (float32 for half-precision inputs).
    """
    _check_same_shape("mu", mu, "logvar", logvar)
    mu, logvar = _to_float32(mu), _to_float32(logvar)
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(logvar)) || N(0, I) ) per example, in nats.

    :func:`gaussian_kl_per_dim` summed over latent dimensions::

        KL = -1/2 * sum_j (1 + logvar_j - mu_j**2 - exp(logvar_j))

    Args:
        mu: ``(batch, latent_dim)`` posterior means.
        logvar: ``(batch, latent_dim)`` posterior log-variances (natural log).
    Returns:
        ``(batch,)`` KL divergence, nats, always >= 0.
    """
    return _sum_per_example(gaussian_kl_per_dim(mu, logvar))


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) per example under a Bernoulli decoder, in nats.

    Computed from logits (numerically stable binary cross-entropy), summed over pixels.
    ``x`` may be grey levels in [0, 1], as in the PyTorch VAE example; then the value is a
    cross-entropy (the course's "grey-level MNIST" numbers), not a normalised likelihood.
    Infinite logits give the exact answer: 0 where the pixel agrees (logit +inf and x = 1,
    or -inf and x = 0), +inf where it does not.

    Args:
        logits: ``(batch, ...)`` decoder outputs before the sigmoid.
        x: targets in [0, 1], same shape as ``logits``.
    Returns:
        ``(batch,)`` nats per example.
    Raises:
        ValueError: shapes differ, or ``x`` has values outside [0, 1] (e.g. uint8 pixels
            0..255: pass ``x.float() / 255``).
    """
    _check_same_shape("logits", logits, "x", x, floating_b=False)
    _check_unit_interval("x", x)
    logits = _to_float32(logits)
    x = x.to(logits.dtype)
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    if nll.device.type == "cpu":
        # Fast path (no device sync on a CPU): the formula gives NaN only at infinite (or NaN)
        # logits, so when no example's sum is NaN there is nothing to fix and the result is
        # bit for bit what the fix below would give; it skips six passes over the pixels.
        per_example = _sum_per_example(nll)
        if not torch.isnan(per_example).any():
            return per_example
    # At logit = +-inf the formula above gives inf - inf = NaN; the exact value is 0 where the
    # pixel equals the saturated probability (1 for +inf, 0 for -inf) and +inf elsewhere.
    saturated = torch.where(x == (logits > 0).to(x.dtype), 0.0, math.inf).to(nll.dtype)
    return _sum_per_example(torch.where(torch.isinf(logits), saturated, nll))


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, log_sigma) -> torch.Tensor:
    """-log N(x | mean, sigma^2 I) per example, in nats, *including* the constant.

    Per dimension: ``0.5 * ((x - mean) / sigma)**2 + log_sigma + 0.5 * log(2 pi)``, summed.

    Args:
        mean: ``(batch, ...)`` decoder means.
        x: targets, same shape as ``mean``.
        log_sigma: log standard deviation (natural log). Accepted: a float or a shape-``()``
            tensor (one sigma for everything); ``(batch,)``, one per example (it is read as
            ``(batch, 1, ..., 1)``, never broadcast along the image width); ``mean.shape[1:]``,
            one per pixel shared by the batch; or a tensor with ``mean``'s number of
            dimensions that broadcasts to ``mean.shape`` (e.g. ``(batch, 1, 1, 1)``,
            ``(1, C, H, W)``). Any other shape raises ``ValueError``.
    Returns:
        ``(batch,)`` nats per example. Where ``x == mean`` the squared term is exactly 0, even
        when ``exp(-log_sigma)`` overflows (``log_sigma <= -89`` in float32).
    """
    _check_same_shape("mean", mean, "x", x, floating_b=False)
    mean = _to_float32(mean)
    x = x.to(mean.dtype)
    if isinstance(log_sigma, torch.Tensor):
        tensor("log_sigma", log_sigma, floating=True)
    else:
        log_sigma = real_number("log_sigma", log_sigma, what="the log standard deviation, "
                                "natural log; or a tensor")
    log_sigma = _per_example_log_sigma(torch.as_tensor(log_sigma, dtype=mean.dtype,
                                                       device=mean.device), mean.shape)
    diff = x - mean
    # 0 * exp(89) would be 0 * inf = NaN: use log_sigma = 0 where the difference is 0.
    safe_log_sigma = torch.where(diff == 0, torch.zeros_like(log_sigma), log_sigma)
    per_dim = 0.5 * (diff * torch.exp(-safe_log_sigma)).pow(2) + log_sigma + 0.5 * LOG_2PI
    return _sum_per_example(per_dim)


def _per_example_log_sigma(log_sigma: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``log_sigma`` shaped to broadcast against a ``shape`` batch the way its docstring says."""
    batch = shape[0]
    if log_sigma.dim() == 0 or tuple(log_sigma.shape) == tuple(shape[1:]):
        return log_sigma
    if log_sigma.dim() == 1 and log_sigma.shape[0] == batch:
        return log_sigma.reshape(batch, *([1] * (len(shape) - 1)))
    if log_sigma.dim() == len(shape):
        try:
            if torch.broadcast_shapes(log_sigma.shape, shape) == shape:
                return log_sigma
        except RuntimeError:
            pass
    raise ValueError(
        f"log_sigma has shape {tuple(log_sigma.shape)}, which does not fit mean of shape "
        f"{tuple(shape)}. Give a float, a shape-() tensor, ({batch},) for one sigma per "
        f"example, {tuple(shape[1:])} for one per pixel, or a tensor with {len(shape)} "
        f"dimensions that broadcasts to {tuple(shape)} (e.g. ({batch}, "
        f"{', '.join(['1'] * (len(shape) - 1))})).")


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
    beta = _check_beta(beta)
    if isinstance(beta, (int, float)) and beta == 1 and kl.is_floating_point():  # 1 * kl == kl
        return recon_nll + kl
    return recon_nll + beta * kl


def vae_loss(model, x: torch.Tensor, y=None, beta: float = 1.0) -> dict:
    """Loss terms of a Bernoulli-decoder VAE on a batch, for :func:`course_utils.train.fit`.

    ``model(x)`` must return ``(logits, mu, logvar)`` with z *sampled* inside. ``x`` may be
    images ``(batch, C, H, W)`` or flat ``(batch, C*H*W)`` (the logits are compared in ``x``'s
    shape). Returns a dict of ``(batch,)`` tensors in nats: ``loss`` (negative ELBO),
    ``recon`` and ``kl``. An autoencoder's ``(logits, z)`` raises ``ValueError`` naming
    :func:`autoencoder_loss`.
    """
    _check_model_input(model, x, "vae_loss")
    beta = _check_beta(beta)
    logits, mu, logvar = _unpack(model(x), 3, model, "vae_loss",
                                 "(logits, mu, logvar)", "autoencoder_loss")
    recon = bernoulli_nll(_like_x(logits, x), x)
    kl = gaussian_kl(mu, logvar)
    return {"loss": negative_elbo(recon, kl, beta), "recon": recon, "kl": kl}


def autoencoder_loss(model, x: torch.Tensor, y=None) -> dict:
    """Reconstruction loss of a deterministic autoencoder, for :func:`course_utils.train.fit`.

    ``model(x)`` must return ``(logits, z)``. Returns ``{"loss": (batch,)}``: the Bernoulli
    negative log-likelihood (binary cross-entropy summed over pixels), nats per image, so
    that the number compares directly with a VAE's reconstruction term.
    """
    _check_model_input(model, x, "autoencoder_loss")
    logits, _ = _unpack(model(x), 2, model, "autoencoder_loss", "(logits, z)", "vae_loss")
    return {"loss": bernoulli_nll(_like_x(logits, x), x)}


def _check_model_input(model, x, loss_name: str) -> None:
    if not callable(model):
        raise ArgumentTypeError(f"{loss_name}'s first argument is the model (called as "
                                f"model(x)), got {got(model)}; the signature is "
                                f"{loss_name}(model, x).")
    tensor("x", x, floating=True, what="a batch of images in [0, 1]")


def _unpack(out, n: int, model, loss_name: str, expected: str, other: str):
    """``out`` as an ``n``-tuple, or a ValueError naming the loss that fits the model."""
    if isinstance(out, (tuple, list)) and len(out) == n:
        return out
    got = (f"{len(out)} values" if isinstance(out, (tuple, list))
           else f"one {type(out).__name__}")
    raise ValueError(f"{loss_name} needs model(x) to return {expected}; "
                     f"{type(model).__name__} returned {got}. A model returning "
                     f"{'(logits, z)' if n == 3 else '(logits, mu, logvar)'} is "
                     f"{'an autoencoder' if n == 3 else 'a VAE'}: use losses.{other}.")


def _like_x(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Decoder logits ``(batch, C, H, W)`` viewed as ``x``'s shape when ``x`` is flat."""
    if logits.shape != x.shape and logits.dim() >= 1 and x.dim() >= 1 \
            and logits.shape[0] == x.shape[0] and logits.numel() == x.numel():
        return logits.reshape(x.shape)
    return logits
