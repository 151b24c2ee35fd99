"""Models reused across chapters. Each chapter writes its own subject out in the notebook;
these are the versions later chapters import.

Image models take ``x: (batch, 1, 28, 28)`` (or ``(batch, 784)``) in [0, 1], and decoders
return *logits* (pass them through ``torch.sigmoid`` to see an image): the Bernoulli
likelihood is computed from logits for numerical stability.
"""
from __future__ import annotations

import torch
from torch import nn


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
        """``x: (batch, 1, 28, 28)`` -> ``z: (batch, latent_dim)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> logits ``(batch, 1, 28, 28)``."""
        return self.decoder(z).view(-1, *self.input_shape)

    def forward(self, x: torch.Tensor):
        z = self.encode(x)
        return self.decode(z), z


class MLPVAE(nn.Module):
    """The 784-400-20 VAE of Kingma & Welling and pytorch/examples, Bernoulli decoder.

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
        """``x: (batch, 1, 28, 28)`` -> ``(mu, logvar)``, each ``(batch, latent_dim)``."""
        h = self.body(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> logits ``(batch, 1, 28, 28)``."""
        return self.decoder(z).view(-1, *self.input_shape)

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
        """``n`` images decoded from prior draws ``z ~ N(0, I)``: probabilities ``(n, 1, 28, 28)``."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator).to(device)
        return torch.sigmoid(self.decode(z))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
