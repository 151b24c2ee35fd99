"""Reshapes the decoder output with .T before .reshape: logits of different images mixed."""
EXPECT = "fail"
MISTAKE = "images mixed across the batch in the decoder"

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
        return F.one_hot(y, self.num_classes).to(like)

    def encode(self, x, y):
        h = self.body(torch.cat([x.flatten(1), self.one_hot(y, x)], dim=1))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z, y):
        return self.decoder(torch.cat([z, self.one_hot(y, z)], dim=1)).T.reshape(-1, 1, 28, 28)

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z, y), mu, logvar
