"""KL and likelihood from torch.distributions."""
EXPECT = "pass"
MISTAKE = ""

import torch
from torch.distributions import Bernoulli, Normal, kl_divergence


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats."""
    recon = -Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    kl = kl_divergence(q, p).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
