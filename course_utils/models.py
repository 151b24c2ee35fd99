"""Models reused across chapters. Each chapter writes its own subject out in the notebook;
these are the versions later chapters import.

Image models take ``x: (batch, C, H, W)`` (or flat ``(batch, C*H*W)``) floating point in
[0, 1], with ``(C, H, W)`` the model's ``input_shape`` (default ``(1, 28, 28)``); any other
shape or an integer dtype raises a ``ValueError`` that names what the model expects. Decoders
return *logits* (pass them through ``torch.sigmoid`` to see an image): the Bernoulli
likelihood is computed from logits for numerical stability.
"""
from __future__ import annotations

import contextlib
import math
import numbers

import numpy as np
import torch
from torch import nn

from ._validate import ArgumentTypeError, got, real_number, tensor, whole_number

__all__ = ["MLPAutoencoder", "GaussianVAE", "MLPVAE", "ConvVAE", "count_parameters",
           "eval_mode", "FSQ", "MAX_LISTED_CODES", "MAX_CODEBOOK_SIZE"]


def _sizes(latent_dim, hidden_dim, input_shape):
    """Checked constructor sizes: ``(latent_dim, hidden_dim or None, input_shape tuple)``."""
    latent_dim = whole_number("latent_dim", latent_dim, what="size of z")
    if hidden_dim is not None:
        hidden_dim = whole_number("hidden_dim", hidden_dim, what="hidden units")
    need = "input_shape must be the images' (C, H, W), e.g. (1, 28, 28)"
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__") \
            or not len(input_shape):
        raise ArgumentTypeError(f"{need}, got {got(input_shape)}.")
    shape = tuple(input_shape)
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, (bool, np.bool_)) and d >= 1
               for d in shape):
        raise ValueError(f"{need}: whole numbers >= 1; got {shape!r}.")
    return latent_dim, hidden_dim, tuple(int(d) for d in shape)


def _check_images(model: nn.Module, x: torch.Tensor) -> None:
    """Raise unless ``x`` is ``(batch, *model.input_shape)`` or flat ``(batch, C*H*W)`` floats."""
    shape = tuple(model.input_shape)
    flat = 1
    for d in shape:
        flat *= d
    name = type(model).__name__
    expected = f"(batch, {', '.join(map(str, shape))}) or flat (batch, {flat})"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} expects a tensor {expected}; got {type(x).__name__}.")
    if tuple(x.shape[1:]) not in (shape, (flat,)):
        raise ValueError(f"{name} expects images {expected}; got shape {tuple(x.shape)}. "
                         f"Build the model for these images (input_shape=(C, H, W)) or "
                         f"resize them; a single image needs a batch dimension: x[None].")
    if not x.is_floating_point():
        raise ValueError(f"{name} expects floating-point pixels in [0, 1], got dtype "
                         f"{x.dtype}; scale 0..255 pixels first: x = x.float() / 255.")


@contextlib.contextmanager
def eval_mode(model):
    """Inside: ``model`` in eval mode (no dropout, frozen batch-norm statistics); on exit,
    even after an error, the mode it had before. Objects without ``eval``/``train`` (toys in
    tests) pass through unchanged."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        yield model
    finally:
        if hasattr(model, "train"):
            model.train(was_training)


class MLPAutoencoder(nn.Module):
    """A deterministic autoencoder: 784 -> hidden -> latent -> hidden -> 784 (logits).

    ``forward(x) -> (logits, z)`` with ``logits: (batch, 1, 28, 28)``, ``z: (batch, latent_dim)``.
    """

    def __init__(self, latent_dim: int = 2, hidden_dim: int = 400, input_shape=(1, 28, 28)):
        super().__init__()
        latent_dim, hidden_dim, self.input_shape = _sizes(latent_dim, hidden_dim, input_shape)
        n = int(torch.tensor(self.input_shape).prod())
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(n, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, n))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (batch, 1, 28, 28)`` (or ``(batch, 784)``) -> ``z: (batch, latent_dim)``."""
        _check_images(self, x)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> logits ``(batch, 1, 28, 28)``."""
        return self.decoder(z).view(-1, *self.input_shape)

    def forward(self, x: torch.Tensor):
        z = self.encode(x)
        return self.decode(z), z


class GaussianVAE(nn.Module):
    """What every VAE of the course shares: a diagonal-Gaussian encoder, the
    reparameterised sample, a standard-normal prior and a Bernoulli decoder (logits).

    Subclasses set ``self.latent_dim`` and define ``encode(x) -> (mu, logvar)`` (each
    ``(batch, latent_dim)``) and ``decode(z) -> logits`` (``(batch, C, H, W)``).
    """

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                       eps: torch.Tensor | None = None) -> torch.Tensor:
        """``z = mu + sigma * eps`` with ``eps ~ N(0, I)``: differentiable in mu and logvar.

        ``eps`` (default: a fresh ``torch.randn_like(mu)``) may be given, e.g. to reuse the
        draws in ``log q(z|x)``; ``mu``, ``logvar`` and ``eps`` broadcast against each other.
        """
        tensor("mu", mu, floating=True)
        tensor("logvar", logvar, floating=True)
        if eps is None:
            eps = torch.randn_like(mu)
        else:
            tensor("eps", eps, floating=True)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images decoded from prior draws ``z ~ N(0, I)``: probabilities ``(n, C, H, W)``."""
        n = whole_number("n", n, what="images to draw")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ArgumentTypeError(f"generator must be a torch.Generator or None, got "
                                    f"{got(generator)}.")
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator).to(device)
        return torch.sigmoid(self.decode(z))


class MLPVAE(GaussianVAE):
    """The 784-400-20 VAE of pytorch/examples ``vae/main.py`` (ReLU, trained there with Adam),
    Bernoulli decoder. It follows Kingma & Welling (2014), whose MNIST model differed: 500 tanh
    hidden units, Adagrad, minibatches of 100.

    ``encode(x) -> (mu, logvar)``, each ``(batch, latent_dim)``; ``decode(z) -> logits``
    ``(batch, 1, 28, 28)``; ``forward(x) -> (logits, mu, logvar)`` with ``z`` *sampled* by
    the reparameterisation ``z = mu + exp(logvar / 2) * eps``, in training and evaluation
    alike (evaluating at ``z = mu`` would not be an ELBO).
    """

    def __init__(self, latent_dim: int = 20, hidden_dim: int = 400, input_shape=(1, 28, 28)):
        super().__init__()
        latent_dim, hidden_dim, self.input_shape = _sizes(latent_dim, hidden_dim, input_shape)
        self.latent_dim = latent_dim
        n = int(torch.tensor(self.input_shape).prod())
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(n, hidden_dim), nn.ReLU())
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, n))

    def encode(self, x: torch.Tensor):
        """``x: (batch, 1, 28, 28)`` (or ``(batch, 784)``) -> ``(mu, logvar)``, each
        ``(batch, latent_dim)``."""
        _check_images(self, x)
        h = self.body(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> logits ``(batch, 1, 28, 28)``."""
        return self.decoder(z).view(-1, *self.input_shape)



def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError(f"count_parameters needs a torch.nn.Module, got {got(model)}.")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class ConvVAE(GaussianVAE):
    """A convolutional VAE for small images (chapter 06), Bernoulli decoder.

    Encoder: two stride-2 convolutions (``channels``, 4x4 kernels) halve the image twice
    (28x28 -> 14x14 -> 7x7), then two linear heads give ``mu`` and ``logvar``. Decoder: a
    linear layer back to the 7x7 feature map, then two stride-2 transposed convolutions up to
    the image size; the last one outputs logits. Same interface as :class:`MLPVAE`:
    ``encode(x) -> (mu, logvar)``, each ``(batch, latent_dim)``; ``decode(z) -> logits``
    ``(batch, C, H, W)``; ``forward(x) -> (logits, mu, logvar)`` with ``z`` sampled;
    ``sample(n)`` -> probabilities ``(n, C, H, W)``.

    Args:
        latent_dim: size of z.
        channels: feature maps after the first and the second convolution.
        input_shape: ``(C, H, W)``; H and W must be divisible by 4.
    """

    def __init__(self, latent_dim: int = 20, channels=(32, 64), input_shape=(1, 28, 28)):
        super().__init__()
        latent_dim, _, input_shape = _sizes(latent_dim, None, input_shape)
        if len(input_shape) != 3 or input_shape[1] % 4 or input_shape[2] % 4:
            raise ValueError(f"input_shape must be (C, H, W) with H and W divisible by 4 (two "
                             f"stride-2 layers), got {tuple(input_shape)}; pad or crop the images.")
        if isinstance(channels, (str, bytes)) or not hasattr(channels, "__len__") \
                or len(channels) != 2:
            raise ValueError(f"channels must name two feature-map counts, e.g. (32, 64); "
                             f"got {got(channels)}.")
        channels = tuple(whole_number("channels", c, what="feature maps") for c in channels)
        self.latent_dim = latent_dim
        self.input_shape = tuple(input_shape)
        c, h, w = self.input_shape
        c1, c2 = channels
        self.feature_shape = (c2, h // 4, w // 4)
        n_features = c2 * (h // 4) * (w // 4)
        self.body = nn.Sequential(
            nn.Conv2d(c, c1, kernel_size=4, stride=2, padding=1), nn.ReLU(),   # H/2
            nn.Conv2d(c1, c2, kernel_size=4, stride=2, padding=1), nn.ReLU(),  # H/4
            nn.Flatten())
        self.to_mu = nn.Linear(n_features, latent_dim)
        self.to_logvar = nn.Linear(n_features, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, n_features), nn.ReLU(),
            nn.Unflatten(1, self.feature_shape),
            nn.ConvTranspose2d(c2, c1, kernel_size=4, stride=2, padding=1), nn.ReLU(),  # H/2
            nn.ConvTranspose2d(c1, c, kernel_size=4, stride=2, padding=1))             # H

    def encode(self, x: torch.Tensor):
        """``x: (batch, C, H, W)`` (or ``(batch, C*H*W)``) -> ``(mu, logvar)``, each ``(batch, latent_dim)``."""
        _check_images(self, x)
        h = self.body(x.reshape(x.shape[0], *self.input_shape))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> logits ``(batch, C, H, W)``."""
        return self.decoder(z)


# --- Discrete latents: finite scalar quantisation
# Mentzer, Minnen, Agustsson & Tschannen (2023), "Finite Scalar Quantization: VQ-VAE Made
# Simple" (ICLR 2024), following the authors' published code (paper appendix A.1 and the
# google-research fsq.ipynb) exactly: bound, round with a straight-through gradient, rescale.

class FSQ(nn.Module):
    """Finite scalar quantisation: each of ``d = len(levels)`` dimensions is bounded and
    rounded to one of ``levels[i]`` fixed values; the codebook is their grid (nothing learned).

    Per dimension with ``L`` levels (the authors' code, ``eps = 1e-3``)::

        half_l = (L - 1) * (1 - eps) / 2
        offset = 0.5 if L is even else 0.0
        shift  = tan(offset / half_l)
        bound(z) = tanh(z + shift) * half_l - offset        # in (-half_l - offset, half_l - offset)
        z_q = round(bound(z)) / (L // 2)                    # L values in [-1, 1]

    Odd ``L`` gives the symmetric values ``{-1, ..., 1}``; even ``L`` the integers
    ``-L/2 .. L/2 - 1`` divided by ``L/2`` (e.g. ``L = 4``: ``-1, -0.5, 0, 0.5``): the offset
    makes an even number of integers fit. (The lucidrains PyTorch port uses ``(1 + eps)`` and
    ``atanh`` instead, which puts ``bound(0)`` exactly at 0; the rounding boundaries move by
    less than ``eps`` levels.) Rounding has zero gradient, so the backward pass uses the
    straight-through estimator: ``d z_q / d z = bound'(z) / (L // 2)``.

    A code's index is its mixed-radix number: digit ``k_i = round(bound(z_i)) + L_i // 2`` in
    ``0 .. L_i - 1``, index ``= sum_i k_i * basis_i`` with ``basis = cumprod([1] + levels[:-1])``.

    Args:
        levels: number of values per dimension, each an int >= 2 (e.g. ``[8, 5, 5, 5]``,
            1,000 codes).
        eps: the paper's margin, ``0 <= eps < 1``.
    Attributes:
        dim: ``d``, the size of the last axis of ``z``.
        codebook_size: ``prod(levels)``.
    """

    def __init__(self, levels, eps: float = 1e-3):
        super().__init__()
        levels = _fsq_levels(levels)
        eps = real_number("eps", eps, minimum=0.0, what="the paper's margin, below 1; it uses "
                          "1e-3")
        if eps >= 1:
            raise ValueError(f"eps must satisfy 0 <= eps < 1 (the paper uses 1e-3); got {eps!r}.")
        self.levels = tuple(levels)
        self.eps = float(eps)
        self.dim = len(levels)
        self.codebook_size = math.prod(levels)
        L = torch.tensor(levels, dtype=torch.float64)
        half_l = (L - 1) * (1 - eps) / 2
        offset = torch.where(L % 2 == 0, 0.5, 0.0)
        self.register_buffer("_half_l", half_l, persistent=False)
        self.register_buffer("_offset", offset, persistent=False)
        self.register_buffer("_shift", torch.tan(offset / half_l), persistent=False)
        self.register_buffer("_half_width", torch.tensor([n // 2 for n in levels],
                                                         dtype=torch.float64), persistent=False)
        self.register_buffer("_levels", torch.tensor(levels, dtype=torch.int64), persistent=False)
        basis = torch.cumprod(torch.tensor([1] + levels[:-1], dtype=torch.int64), dim=0)
        self.register_buffer("_basis", basis, persistent=False)

    def extra_repr(self) -> str:
        return f"levels={list(self.levels)}, codebook_size={self.codebook_size}"

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or not z.is_floating_point():
            raise TypeError(f"FSQ expects a floating-point tensor z of shape (..., {self.dim}); "
                            f"got {type(z).__name__ if not isinstance(z, torch.Tensor) else z.dtype}.")
        if z.dim() == 0 or z.shape[-1] != self.dim:
            raise ValueError(f"FSQ(levels={list(self.levels)}) expects z of shape (..., {self.dim}) "
                             f"(one value per level count), got {tuple(z.shape)}; put the channel "
                             f"axis last (e.g. z.permute(0, 2, 3, 1) for (B, C, H, W) maps) or "
                             f"project to {self.dim} channels first.")
        if torch.isnan(z).any():
            raise ValueError("z contains NaN; FSQ cannot quantise it (check the encoder's output).")
        # half and bfloat16 cannot hold the codes exactly: quantise in float32.
        return z if z.dtype in (torch.float32, torch.float64) else z.float()

    def _param(self, name: str, z: torch.Tensor) -> torch.Tensor:
        return getattr(self, name).to(dtype=z.dtype)

    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (..., d)`` -> the bounded values ``tanh(z + shift) * half_l - offset``, ``(..., d)``."""
        z = self._check_z(z)
        return torch.tanh(z + self._param("_shift", z)) * self._param("_half_l", z) \
            - self._param("_offset", z)

    def forward(self, z: torch.Tensor):
        """Quantise ``z: (..., d)``.

        Returns:
            ``(z_q, indices)``: ``z_q: (..., d)`` in ``[-1, 1]``, exactly the implicit
            codebook's rows (same dtype as ``z``; float32 for half precision), with the
            straight-through gradient ``bound'(z) / (L // 2)``; ``indices: (...)`` int64 in
            ``[0, codebook_size)``.
        """
        bounded = self.bound(z)
        half_width = self._param("_half_width", bounded)
        codes = torch.round(bounded).detach() / half_width          # exact grid values
        soft = bounded / half_width
        z_q = codes + (soft - soft.detach())    # value: codes exactly; gradient: d soft / d z
        return z_q, self.codes_to_indices(codes)

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """Grid codes ``(..., d)`` (rows of the implicit codebook) -> indices ``(...)`` int64."""
        tensor("codes", codes, floating=True, what=f"(..., {self.dim}) rows of the codebook")
        if codes.dim() == 0 or codes.shape[-1] != self.dim:
            raise ValueError(f"codes must have shape (..., {self.dim}), got {tuple(codes.shape)}.")
        digits = torch.round(codes.detach().double() * self._half_width + self._half_width).long()
        if (digits < 0).any() or (digits >= self._levels).any():
            raise ValueError("codes lie outside the FSQ grid; pass values produced by this FSQ.")
        return (digits * self._basis).sum(-1)

    def indices_to_codes(self, indices: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        """Indices ``(...)`` (integers in ``[0, codebook_size)``) -> codes ``(..., d)`` in ``dtype``."""
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ArgumentTypeError(f"dtype must be a floating-point torch dtype (e.g. "
                                    f"torch.float32), got {got(dtype)}.")
        indices = torch.as_tensor(indices, device=self._basis.device)
        if indices.is_floating_point() or indices.is_complex() or indices.dtype == torch.bool:
            raise TypeError(f"indices must be integers, got dtype {indices.dtype}.")
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.codebook_size):
            raise ValueError(f"indices must lie in [0, {self.codebook_size}) for levels "
                             f"{list(self.levels)}; found values from {int(indices.min())} to "
                             f"{int(indices.max())}.")
        digits = (indices.long()[..., None] // self._basis) % self._levels
        half_width = self._half_width.to(dtype)
        return (digits.to(dtype) - half_width) / half_width

    def implicit_codebook(self, dtype=torch.float32) -> torch.Tensor:
        """All codes in index order: ``(codebook_size, d)``; row ``i`` is ``indices_to_codes(i)``.

        Raises ``ValueError`` above :data:`MAX_LISTED_CODES` codes (the list would not fit in
        memory): use :meth:`indices_to_codes` on the indices you need.
        """
        if self.codebook_size > MAX_LISTED_CODES:
            raise ValueError(f"the codebook of levels {list(self.levels)} has "
                             f"{self.codebook_size:,} codes, too many to list (at most "
                             f"{MAX_LISTED_CODES:,}); use fsq.indices_to_codes(indices) for the "
                             "codes you need.")
        return self.indices_to_codes(torch.arange(self.codebook_size, device=self._basis.device),
                                     dtype=dtype)


MAX_LISTED_CODES = 2 ** 24  # implicit_codebook lists at most this many codes
# Indices are int64: index = sum_i k_i * basis_i <= prod(levels) - 1 must fit.
MAX_CODEBOOK_SIZE = 2 ** 63


def _fsq_levels(levels) -> list:
    """FSQ's ``levels`` as a list of ints >= 2 whose product fits an int64 index."""
    need = ("levels must be a non-empty list of whole numbers >= 2 (values per dimension, e.g. "
            "[8, 5, 5, 5])")
    if isinstance(levels, (torch.Tensor, np.ndarray)):
        levels = levels.tolist()
    if isinstance(levels, (str, bytes)) or not isinstance(levels, (list, tuple)):
        hint = (f"; for one dimension write [{levels}]" if isinstance(levels, numbers.Integral)
                else "")
        raise ArgumentTypeError(f"{need}; got {got(levels)}{hint}.")
    if not levels or any(isinstance(L, (bool, np.bool_)) or not isinstance(L, numbers.Integral)
                         or L < 2 for L in levels):
        raise ValueError(f"{need}; got {levels!r}.")
    levels = [int(L) for L in levels]
    size = math.prod(levels)
    if size > MAX_CODEBOOK_SIZE:
        raise ValueError(f"levels {levels} give {size:.3g} codes, more than an int64 index can "
                         f"number (2**63); use fewer or smaller levels (the paper's largest "
                         f"codebooks have about 2**16 codes, e.g. [8, 8, 8, 5, 5, 5]).")
    return levels
