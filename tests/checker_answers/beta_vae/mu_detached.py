"""Detaches mu inside the KL, so the KL never pulls the means towards 0."""
EXPECT = "fail"
MISTAKE = "no gradient: mu detached in the KL"

import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats: {"loss", "recon", "kl"}, each (batch,)."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.detach().pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
