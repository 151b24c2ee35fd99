"""Writes the Bernoulli NLL as log1p(exp(l)) - x*l, which overflows in float32 at large logits."""
EXPECT = "fail"
MISTAKE = "numerics: log1p(exp(l)) overflows"

import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats: {"loss", "recon", "kl"}, each (batch,)."""
    recon = (torch.log1p(torch.exp(logits)) - x * logits).flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
