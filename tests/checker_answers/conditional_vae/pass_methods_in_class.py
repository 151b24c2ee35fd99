"""All methods written inside the class; one-hot by indexing an identity matrix."""
EXPECT = "pass"
MISTAKE = ""

import torch
import torch.nn.functional as F
from torch import nn


class CVAE(nn.Module):
    """Conditional VAE with the methods in the class body."""

    def __init__(self, latent_dim=2, num_classes=10, hidden_dim=400):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.fc1 = nn.Linear(784 + num_classes, hidden_dim)
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.fc3 = nn.Linear(latent_dim + num_classes, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, 784)

    def one_hot(self, y, like):
        return torch.eye(self.num_classes, dtype=like.dtype, device=like.device)[y]

    def encode(self, x, y):
        h = F.relu(self.fc1(torch.cat((x.view(x.size(0), -1), self.one_hot(y, x)), 1)))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z, y):
        h = F.relu(self.fc3(torch.cat((z, self.one_hot(y, z)), 1)))
        return self.fc4(h).view(z.size(0), 1, 28, 28)

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        std = torch.exp(logvar / 2)
        eps = torch.randn_like(std)
        return self.decode(mu + eps * std, y), mu, logvar


encode, decode, forward = CVAE.encode, CVAE.decode, CVAE.forward
