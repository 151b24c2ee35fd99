"""Writes the cross-entropy with log(sigmoid(l)) and log(1 - sigmoid(l)): inf/nan at large logits."""
EXPECT = "fail"
MISTAKE = "numerics: log(sigmoid) at large logits"

import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats: {"loss", "recon", "kl"}, each (batch,)."""
    p = torch.sigmoid(logits)
    recon = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
