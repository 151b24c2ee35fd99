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

import torch
from torch import nn

__all__ = ["MLPAutoencoder", "GaussianVAE", "MLPVAE", "ConvVAE", "count_parameters",
           "eval_mode"]


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
        self.input_shape = tuple(input_shape)
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
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``z = mu + sigma * eps`` with ``eps ~ N(0, I)``: differentiable in mu and logvar."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images decoded from prior draws ``z ~ N(0, I)``: probabilities ``(n, C, H, W)``."""
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
        self.latent_dim = latent_dim
        self.input_shape = tuple(input_shape)
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
        if len(input_shape) != 3 or input_shape[1] % 4 or input_shape[2] % 4:
            raise ValueError(f"input_shape must be (C, H, W) with H and W divisible by 4 (two "
                             f"stride-2 layers), got {tuple(input_shape)}; pad or crop the images.")
        if len(channels) != 2:
            raise ValueError(f"channels must name two feature-map counts, e.g. (32, 64); "
                             f"got {channels!r}.")
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

