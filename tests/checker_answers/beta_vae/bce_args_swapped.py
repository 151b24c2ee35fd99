"""Passes (x, logits) to binary_cross_entropy_with_logits in the wrong order."""
EXPECT = "fail"
MISTAKE = "arguments of BCE swapped"

import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats: {"loss", "recon", "kl"}, each (batch,)."""
    recon = F.binary_cross_entropy_with_logits(x, logits, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
