"""softplus(l) - x*l, summed over every non-batch dimension."""
EXPECT = "pass"
MISTAKE = ""

import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats."""
    dims = tuple(range(1, x.dim()))
    recon = (F.softplus(logits) - x * logits).sum(dim=dims)
    var = torch.exp(logvar)
    kl = 0.5 * torch.sum(mu * mu + var - logvar - 1.0, dim=1)
    return {"recon": recon, "kl": kl, "loss": recon + beta * kl}
