"""Forgets the factor 1/2 of the closed-form KL."""
EXPECT = "fail"
MISTAKE = "factor 1/2 missing in the KL"

import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats: {"loss", "recon", "kl"}, each (batch,)."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -(1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
