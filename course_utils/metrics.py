"""Numbers that judge a trained latent-variable model, beyond its training loss.

* :func:`iwae_nll` -- the importance-weighted estimate of -log p(x) (Burda et al. 2016),
  a bound that tightens as the number of samples ``k`` grows; :func:`elbo` is its ``k = 1``
  relative with the KL term in closed form.
* :func:`encode_dataset`, :func:`kl_per_dim`, :func:`posterior_mean_variance`,
  :func:`active_units` -- how many latent dimensions a VAE actually uses.
* :func:`codebook_usage` -- how much of a discrete codebook (VQ-VAE, FSQ) is used.

The VAE functions expect the course's interface: ``model.encode(x) -> (mu, logvar)``, each
``(batch, latent_dim)``, for a diagonal Gaussian q(z|x) with a standard normal prior, and
``model.decode(z) -> logits`` shaped like ``x``, for a Bernoulli decoder. All numbers are in
nats, per example, summed over pixels and latent dimensions.
"""
from __future__ import annotations

import contextlib
import math
import numbers

import torch

from ._validate import ArgumentTypeError, got, tensor
from .losses import LOG_2PI, bernoulli_nll, gaussian_kl, gaussian_kl_per_dim
from .models import GaussianVAE, eval_mode

__all__ = ["encode_dataset", "kl_per_dim", "posterior_mean_variance", "active_units",
           "iwae_nll", "elbo", "codebook_usage",
           "log_aggregate_posterior", "kl_decomposition", "mutual_information"]


def _model_device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:  # a model without parameters (tests, hand-built toys)
        return torch.device("cpu")


def _autocast_off(device: torch.device):
    """Switch autocast off inside (bounds need float32); a no-op where autocast does not exist."""
    try:
        return torch.autocast(device.type, enabled=False)
    except RuntimeError:
        return contextlib.nullcontext()


def _check_vae(model, x: torch.Tensor) -> None:
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            raise TypeError(f"the model needs an {name}() method (encode(x) -> (mu, logvar), "
                            f"decode(z) -> logits); {type(model).__name__} has none.")
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        raise ValueError("x must be a tensor of examples, shape (batch, ...), e.g. "
                         f"(batch, 1, 28, 28); got {getattr(x, 'shape', type(x).__name__)}.")
    if x.shape[0] == 0:
        raise ValueError(f"x is empty (shape {tuple(x.shape)}): there is nothing to evaluate; "
                         "pass at least one example.")


def _positive_int(name: str, value) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``name`` (no bool, NaN, inf or 2.5)."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value) and value == int(value) and value >= 1)
    if not ok:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _sample_z(mu: torch.Tensor, logvar: torch.Tensor, k: int):
    """``k`` reparameterised draws per example (:meth:`GaussianVAE.reparameterize`).

    Returns ``(z, eps)``, each ``(batch, k, latent_dim)``.
    """
    eps = torch.randn(mu.shape[0], k, mu.shape[1], device=mu.device)
    return GaussianVAE.reparameterize(mu[:, None], logvar[:, None], eps), eps


@torch.no_grad()
def encode_dataset(model, x: torch.Tensor, batch_size: int = 1024):
    """Posterior parameters for a whole split, without gradients, in eval mode.

    Args:
        model: has ``encode(x) -> (mu, logvar)``.
        x: ``(N, ...)`` inputs, on any device (moved to the model's device batch by batch).
        batch_size: examples encoded at once.
    Returns:
        ``(mu, logvar)``, each ``(N, latent_dim)`` float32, on the device of ``x``.
    """
    _check_vae(model, x)
    batch_size = _positive_int("batch_size", batch_size)
    device = _model_device(model)
    mus, logvars = [], []
    with eval_mode(model):
        for start in range(0, x.shape[0], batch_size):
            mu, logvar = model.encode(x[start:start + batch_size].to(device))
            mus.append(mu.float().to(x.device))
            logvars.append(logvar.float().to(x.device))
    return torch.cat(mus), torch.cat(logvars)


def _check_codes(mu: torch.Tensor, logvar: torch.Tensor | None = None) -> None:
    """``mu`` (and ``logvar``): floating ``(N, latent_dim)`` tensors, N >= 1, all finite."""
    shape = "(N, latent_dim) posterior parameters, e.g. from metrics.encode_dataset"
    tensor("mu", mu, floating=True, what=shape)
    if mu.dim() != 2:
        raise ValueError(f"mu must be (N, latent_dim), got shape {tuple(mu.shape)}; "
                         "encode the data first, e.g. with metrics.encode_dataset.")
    if mu.shape[0] == 0 or mu.shape[1] == 0:
        raise ValueError(f"mu is empty (shape {tuple(mu.shape)}): there is nothing to measure; "
                         "pass the codes of at least one example with at least one latent "
                         "dimension.")
    if logvar is not None:
        tensor("logvar", logvar, floating=True, what=shape)
        if logvar.shape != mu.shape:
            raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
                             f"and {tuple(logvar.shape)}.")
    for name, t in (("mu", mu), ("logvar", logvar)):
        if t is not None:
            bad = (~torch.isfinite(t.detach())).any(dim=0).nonzero().flatten().tolist()
            if bad:
                raise ValueError(f"{name} has NaN or infinite values in latent dimension(s) "
                                 f"{bad[:10]}; check the encoder's outputs (e.g. "
                                 f"torch.isfinite({name}).all(dim=0)) before measuring them.")


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z_j|x) || N(0, 1)) for each latent dimension j, averaged over the examples.

    :func:`course_utils.losses.gaussian_kl_per_dim` averaged over the ``N`` rows; the entries
    sum to the mean of :func:`course_utils.losses.gaussian_kl` over the batch.

    Args:
        mu, logvar: ``(N, latent_dim)`` posterior means and log-variances.
    Returns:
        ``(latent_dim,)`` nats per example.
    """
    _check_codes(mu, logvar)
    return gaussian_kl_per_dim(mu.float(), logvar.float()).mean(dim=0)


def posterior_mean_variance(mu: torch.Tensor) -> torch.Tensor:
    """Variance across the data of each dimension's posterior mean, ``Var_x(E_q[z_j|x])``.

    Args:
        mu: ``(N, latent_dim)`` posterior means, one row per example (``N >= 2``).
    Returns:
        ``(latent_dim,)`` variances (population variance over the ``N`` rows), in squared
        latent units. Near 0: the dimension says the same for every input (it is unused).
    """
    _check_codes(mu)
    if mu.shape[0] < 2:
        raise ValueError(f"need at least 2 examples to measure a variance, got {mu.shape[0]}.")
    return mu.float().var(dim=0, unbiased=False)


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> int:
    """Number of latent dimensions the encoder uses (Burda et al. 2016).

    A dimension is *active* when its posterior mean varies across the data by more than
    ``threshold``: ``Var_x(E_q[z_j|x]) > threshold`` (see :func:`posterior_mean_variance`).
    An inactive dimension has collapsed to the prior and carries no information about x.

    Args:
        mu: ``(N, latent_dim)`` posterior means over a data set (e.g. the test split).
        threshold: variance threshold, squared latent units (the paper's 0.01).
    Returns:
        an ``int`` between 0 and ``latent_dim``.
    Raises:
        ValueError: a dimension's variance is NaN or infinite (NaN/inf in ``mu``): it would
            otherwise be counted as inactive.
    """
    variance = posterior_mean_variance(mu)
    bad = (~torch.isfinite(variance)).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"mu has NaN or infinite values in latent dimension(s) {bad}, so "
                         "their activity cannot be measured; check the encoder's outputs "
                         "(e.g. torch.isfinite(mu).all(dim=0)) before counting active units.")
    return int((variance > threshold).sum())


def _log_weights(model, x: torch.Tensor, k: int) -> torch.Tensor:
    """``log p(x, z_i) - log q(z_i|x)`` for ``k`` draws ``z_i ~ q(z|x)``: ``(batch, k)``."""
    mu, logvar = model.encode(x)
    mu, logvar = mu.float(), logvar.float()
    batch, latent = mu.shape
    z, eps = _sample_z(mu, logvar, k)                                   # (batch, k, latent)
    logits = model.decode(z.reshape(batch * k, latent)).float()
    x_rep = x.float().repeat_interleave(k, dim=0).reshape(logits.shape)
    log_px_z = -bernoulli_nll(logits, x_rep).view(batch, k)
    log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
    log_qz = -0.5 * (eps.pow(2) + logvar[:, None] + LOG_2PI).sum(-1)
    return log_px_z + log_pz - log_qz


@torch.no_grad()
def iwae_nll(model, x: torch.Tensor, k: int, batch_size: int = 64,
             samples_per_pass: int | None = None) -> torch.Tensor:
    """Importance-weighted estimate of -log p(x) per example (Burda et al. 2016), nats.

    With ``k`` draws ``z_i ~ q(z|x)`` and weights ``w_i = p(x|z_i) p(z_i) / q(z_i|x)``::

        -log p(x)  ~=  -log (1/k sum_i w_i)  =  -(logsumexp_i log w_i - log k)

    In expectation this is an *upper* bound on -log p(x) that never loosens as ``k`` grows
    and reaches -log p(x) as ``k -> infinity``; ``k = 1`` is the negative ELBO (one-sample
    estimate, same expectation as :func:`course_utils.losses.vae_loss`).

    Args:
        model: ``encode(x) -> (mu, logvar)``, ``decode(z) -> logits`` (Bernoulli decoder,
            standard normal prior); evaluated in eval mode, without gradients.
        x: ``(N, ...)`` inputs in [0, 1], any device.
        k: importance samples per example (``>= 1``).
        batch_size: examples per encoder pass.
        samples_per_pass: draws decoded at once per example; the decoder sees at most
            ``batch_size * samples_per_pass`` rows, which bounds memory (default: about
            8,192 rows per pass).
    Returns:
        ``(N,)`` float32, nats per example, on the device of ``x``.
    """
    _check_vae(model, x)
    k = _positive_int("k (importance samples per example)", k)
    batch_size = _positive_int("batch_size", batch_size)
    if samples_per_pass is None:
        samples_per_pass = max(1, 8192 // batch_size)
    samples_per_pass = _positive_int("samples_per_pass", samples_per_pass)
    device = _model_device(model)
    out = []
    with eval_mode(model), _autocast_off(device):
        for start in range(0, x.shape[0], batch_size):
            xb = x[start:start + batch_size].to(device)
            log_w = torch.cat([_log_weights(model, xb, min(samples_per_pass, k - done))
                               for done in range(0, k, samples_per_pass)], dim=1)
            # float32 is plenty for logsumexp (it subtracts the maximum first), and MPS has no
            # float64.
            log_mean_w = torch.logsumexp(log_w, dim=1) - math.log(k)
            out.append((-log_mean_w).to(x.device))
    return torch.cat(out)


@torch.no_grad()
def elbo(model, x: torch.Tensor, n_samples: int = 1, batch_size: int = 256) -> dict:
    """The ELBO per example, with the KL in closed form and ``n_samples`` draws for the rest.

    ``ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x)``. Averaging the
    reconstruction term over ``n_samples`` draws lowers the Monte-Carlo noise of the
    estimate but not its expectation: this is still the ELBO, not a tighter bound (that is
    :func:`iwae_nll`).

    Args:
        model: ``encode(x) -> (mu, logvar)``, ``decode(z) -> logits``; eval mode, no grad.
        x: ``(N, ...)`` inputs in [0, 1], any device.
        n_samples: draws of z per example for ``E_q[log p(x|z)]``.
        batch_size: examples per encoder pass.
    Returns:
        dict of ``(N,)`` float32 tensors in nats, on the device of ``x``: ``"elbo"`` (a lower
        bound on log p(x), so usually negative), ``"recon"`` (``-E_q[log p(x|z)]``) and
        ``"kl"``. ``recon + kl == -elbo`` is the loss in nats per example.
    """
    _check_vae(model, x)
    n_samples = _positive_int("n_samples", n_samples)
    batch_size = _positive_int("batch_size", batch_size)
    device = _model_device(model)
    recons, kls = [], []
    with eval_mode(model), _autocast_off(device):
        for start in range(0, x.shape[0], batch_size):
            xb = x[start:start + batch_size].to(device)
            mu, logvar = model.encode(xb)
            mu, logvar = mu.float(), logvar.float()
            batch, latent = mu.shape
            z, _ = _sample_z(mu, logvar, n_samples)
            logits = model.decode(z.reshape(batch * n_samples, latent)).float()
            x_rep = xb.float().repeat_interleave(n_samples, dim=0).reshape(logits.shape)
            recons.append(bernoulli_nll(logits, x_rep).view(batch, n_samples).mean(1))
            kls.append(gaussian_kl(mu, logvar))
    recon, kl = torch.cat(recons).to(x.device), torch.cat(kls).to(x.device)
    return {"elbo": -(recon + kl), "recon": recon, "kl": kl}


def codebook_usage(indices: torch.Tensor, codebook_size: int):
    """How much of a discrete codebook is used: fraction of codes used, and perplexity.

    Perplexity is ``exp(H)`` with ``H = -sum_c p_c log p_c`` the entropy (nats) of the
    empirical code frequencies ``p_c``: the number of codes that, used equally often, would
    give the same entropy. It is ``codebook_size`` for perfectly uniform use and 1 when a
    single code is used.

    Args:
        indices: integer code indices of any shape (e.g. ``(batch, h, w)`` tokens), each in
            ``[0, codebook_size)``.
        codebook_size: number of codes ``K`` in the codebook.
    Returns:
        ``(fraction_used, perplexity)`` as Python floats: ``fraction_used`` in ``[0, 1]`` is
        the share of the ``K`` codes that occur at least once; ``perplexity`` in ``[1, K]``.
    """
    codebook_size = _positive_int("codebook_size", codebook_size)
    indices = torch.as_tensor(indices)
    if indices.is_floating_point() or indices.is_complex() or indices.dtype == torch.bool:
        raise TypeError(f"indices must be integer code indices, got dtype {indices.dtype}.")
    if indices.numel() == 0:
        raise ValueError("indices is empty: there is no code usage to measure.")
    flat = indices.reshape(-1).long()
    lo, hi = int(flat.min()), int(flat.max())
    if lo < 0 or hi >= codebook_size:
        raise ValueError(f"indices must lie in [0, {int(codebook_size)}), found values from "
                         f"{lo} to {hi}; is codebook_size right?")
    counts = torch.bincount(flat, minlength=int(codebook_size)).double()
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return float((counts > 0).double().mean()), float(entropy.exp())


# --- Posterior collapse: mutual information and the aggregate posterior
# The average KL term splits into two parts (Hoffman & Johnson 2016, "ELBO surgery"):
#     E_x KL(q(z|x) || p(z))  =  I_q(x; z)  +  KL(q(z) || p(z)),
# under the encoder's joint q(x, z) = p_data(x) q(z|x), with the aggregate posterior
# q(z) = E_x q(z|x). Over a set of N encoded examples, q(z) is the mixture of their N
# Gaussians; log q(z) is estimated by a logsumexp over them (as in He et al. 2019).

# The expanded square below, (z - mu)^2 = z^2 - 2 z mu + mu^2, loses up to about
# EXPANSION_ULPS * latent_dim * 2**-52 of the size of its terms to rounding. Pairs where that
# could exceed EXACT_BELOW (in the squared distance) and that could matter to the logsumexp
# (within RELEVANT_NATS of the largest term of their row) are recomputed term by term. Tiny
# variances (logvar = -40: 1 / var = 2e17) make every such pair inexact by thousands of nats.
EXPANSION_ULPS = 4
EXACT_BELOW = 1e-6
RELEVANT_NATS = 50.0
LOGVAR_MIN = -700.0  # exp(-logvar) overflows float64 below about -709


def _log_normal_matrix(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``log N(z_i; mu_j, diag exp(logvar_j))`` for every pair: ``(M, d), (N, d) -> (M, N)``, float64.

    The squared distances come from one matrix product, fast but inexact where the terms are
    much larger than their difference; those pairs are recomputed as
    ``sum_d ((z_d - mu_d) / sigma_d)^2``, which is exact to rounding.
    """
    d = mu.shape[1]
    inv_var = torch.exp(-logvar)                                            # (N, d)
    quad = (z.pow(2) @ inv_var.T - 2 * z @ (mu * inv_var).T
            + (mu.pow(2) * inv_var).sum(1)[None, :])                        # sum_d (z - mu)^2 / var
    const = logvar.sum(1)[None, :] + d * LOG_2PI
    log_n = -0.5 * (quad.clamp_min(0) + const)
    # sum_d (|z_d| + |mu_d|)^2 / var_d bounds the terms' size; its cheap outer-product bound:
    size = (z.abs().amax(1)[:, None] + mu.abs().amax(1)[None, :]).pow(2) * inv_var.sum(1)[None, :]
    error = size * (EXPANSION_ULPS * d * 2.0 ** -52)
    if not bool((error > EXACT_BELOW).any()):
        return log_n
    floor = (log_n - 0.5 * error).max(dim=1, keepdim=True).values - RELEVANT_NATS
    suspect = ((error > EXACT_BELOW) & (log_n + 0.5 * error >= floor)).nonzero()
    inv_sigma = torch.exp(-0.5 * logvar)
    step = max(1, (1 << 22) // d)                                           # pairs per pass
    for start in range(0, len(suspect), step):
        i, j = suspect[start:start + step].unbind(1)
        exact = ((z[i] - mu[j]) * inv_sigma[j]).pow(2).sum(1)
        log_n[i, j] = -0.5 * (exact + const[0, j])
    return log_n


def log_aggregate_posterior(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                            chunk_size: int = 1024) -> torch.Tensor:
    """Log-density of the aggregate posterior, the mixture ``q(z) = 1/N sum_j q(z|x_j)``.

    ``log q(z_i) = logsumexp_j log N(z_i; mu_j, diag exp(logvar_j)) - log N``, computed in
    float64, ``chunk_size`` rows of ``z`` at a time (memory ``chunk_size * N``).

    Args:
        z: ``(M, latent_dim)`` points at which to evaluate the density.
        mu, logvar: ``(N, latent_dim)`` posterior parameters of the ``N`` mixture components.
        chunk_size: rows of ``z`` per pass.
    Returns:
        ``(M,)`` float64, nats (a log-density of ``z``: per example, summed over latent dims).
        Exact to rounding also for tiny variances (``logvar = -40``), where the fast
        expanded square alone would be off by many nats.
    Raises:
        ValueError: ``mu``, ``logvar`` or ``z`` is not a finite floating-point tensor of the
            right shape, ``mu`` is empty, or ``logvar < -700`` (its ``exp`` underflows).
    """
    _check_codes(mu, logvar)
    _check_logvar_range(logvar)
    tensor("z", z, floating=True, what=f"(M, {mu.shape[1]}) points")
    if not bool(torch.isfinite(z).all()):
        raise ValueError("z has NaN or infinite values; pass finite points.")
    if z.dim() != 2 or z.shape[1] != mu.shape[1]:
        raise ValueError(f"z must be (M, {mu.shape[1]}) to match mu {tuple(mu.shape)}, got "
                         f"{tuple(z.shape)}.")
    chunk_size = _positive_int("chunk_size", chunk_size)
    mu, logvar = mu.double(), logvar.double()
    out = [torch.logsumexp(_log_normal_matrix(z[s:s + chunk_size].double(), mu, logvar), dim=1)
           for s in range(0, z.shape[0], chunk_size)]
    return torch.cat(out) - math.log(mu.shape[0])


def _check_logvar_range(logvar: torch.Tensor) -> None:
    low = float(logvar.min())
    if low < LOGVAR_MIN:
        raise ValueError(f"logvar goes down to {low:g}: variances below exp({LOGVAR_MIN:g}) "
                         "underflow even in float64. An encoder that outputs these is broken; "
                         "bound its log-variances (e.g. logvar.clamp(min=-30) in the model).")


def kl_decomposition(mu: torch.Tensor, logvar: torch.Tensor,
                     generator: torch.Generator | None = None) -> dict:
    """Split the average KL term into mutual information and the marginal KL, in nats.

    With the encoder's joint ``q(x, z) = p_data(x) q(z|x)`` over the ``N`` given examples and
    the aggregate posterior ``q(z) = 1/N sum_j q(z|x_j)`` (Hoffman & Johnson 2016)::

        E_x KL(q(z|x) || p(z))  =  I_q(x; z)  +  KL(q(z) || p(z))
        I_q(x; z)  =  E_x E_{q(z|x)} [log q(z|x) - log q(z)]

    One draw ``z_i ~ q(z|x_i)`` per example; ``E log q(z|x)`` is the closed-form negative
    entropy, ``log q(z_i)`` comes from :func:`log_aggregate_posterior` (the minibatch
    estimator of He et al. 2019). ``KL(q(z) || p(z))`` is the closed-form average KL minus the
    information, so the two parts add up to ``"kl"`` exactly.

    Caveats: the information estimate cannot exceed ``log N`` nats in expectation
    (``q(z_i|x_i) / q(z_i) <= N``), so it saturates for a model that uses many nats (10,000 examples: at most 9.2
    nats); and ``log q(z)`` is a log of an average, slightly biased for small ``N``. Its
    Monte-Carlo standard error is returned so that a comparison can say how precise it is.

    Args:
        mu, logvar: ``(N, latent_dim)`` posterior parameters of ``N >= 2`` examples (e.g.
            from :func:`encode_dataset`).
        generator: optional ``torch.Generator`` for the draws of ``z``.
    Returns:
        dict of Python floats, nats per example: ``"kl"`` (average ``KL(q(z|x)||p(z))``),
        ``"mutual_information"``, ``"marginal_kl"`` (``KL(q(z)||p(z))``), ``"mi_stderr"``
        (standard error of the information estimate from its ``N`` terms) and ``"log_n"``
        (the ceiling ``log N``).
    """
    _check_codes(mu, logvar)
    _check_logvar_range(logvar)
    n = mu.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 examples to form an aggregate posterior, got {n}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ArgumentTypeError(f"generator must be a torch.Generator or None, got "
                                f"{got(generator)}; e.g. torch.Generator().manual_seed(0).")
    mu64, logvar64 = mu.double(), logvar.double()
    eps = torch.randn(mu.shape, generator=generator, dtype=torch.float64).to(mu.device)
    z = mu64 + torch.exp(0.5 * logvar64) * eps                              # z_i ~ q(z|x_i)
    neg_entropy = -0.5 * (1 + logvar64 + LOG_2PI).sum(1)                   # E_q log q(z|x_i)
    terms = neg_entropy - log_aggregate_posterior(z, mu64, logvar64)       # (N,)
    kl = float(gaussian_kl(mu64, logvar64).mean())
    info = float(terms.mean())
    return {"kl": kl, "mutual_information": info, "marginal_kl": kl - info,
            "mi_stderr": float(terms.std() / math.sqrt(n)), "log_n": math.log(n)}


def mutual_information(mu: torch.Tensor, logvar: torch.Tensor,
                       generator: torch.Generator | None = None) -> float:
    """``I_q(x; z)`` in nats, estimated from ``(N, latent_dim)`` posterior parameters.

    The ``"mutual_information"`` entry of :func:`kl_decomposition` (read its caveats: in
    expectation the estimate cannot exceed ``log N``).
    """
    return kl_decomposition(mu, logvar, generator=generator)["mutual_information"]
