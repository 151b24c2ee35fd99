"""One-hot by scatter_ on the input's device and dtype; noise drawn with explicit dtype/device."""
EXPECT = "pass"
MISTAKE = ""

import torch
import torch.nn.functional as F
from torch import nn


class CVAE(nn.Module):
    """Conditional VAE: 784+10 -> hidden -> (mu, logvar); latent+10 -> hidden -> 784 logits."""

    def __init__(self, latent_dim=2, num_classes=10, hidden_dim=400):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.body = nn.Sequential(nn.Linear(784 + num_classes, hidden_dim), nn.ReLU())
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim + num_classes, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, 784))

    def one_hot(self, y, like):
        """Labels (batch,) int64 -> (batch, num_classes), with the dtype and device of `like`."""
        out = torch.zeros(len(y), self.num_classes, dtype=like.dtype, device=like.device)
        return out.scatter_(1, y.to(like.device)[:, None], 1.0)


def encode(self, x, y):
    """x: (batch, 1, 28, 28), y: (batch,) -> (mu, logvar), each (batch, latent_dim)."""
    h = self.body(torch.cat([x.reshape(len(x), -1), self.one_hot(y, x)], dim=1))
    return self.to_mu(h), self.to_logvar(h)


def decode(self, z, y):
    """z: (batch, latent_dim), y: (batch,) -> logits (batch, 1, 28, 28)."""
    return self.decoder(torch.cat([z, self.one_hot(y, z)], dim=1)).view(-1, 1, 28, 28)


def forward(self, x, y):
    """-> (logits, mu, logvar), with z sampled from q(z|x, y)."""
    mu, logvar = self.encode(x, y)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, dtype=mu.dtype, device=mu.device)
    return self.decode(z, y), mu, logvar


CVAE.encode, CVAE.decode, CVAE.forward = encode, decode, forward
