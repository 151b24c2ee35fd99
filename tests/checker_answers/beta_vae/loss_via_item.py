"""Builds the loss per image from .item() values, so it carries no gradient."""
EXPECT = "fail"
MISTAKE = "no gradient: loss via .item()"

import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats: {"loss", "recon", "kl"}, each (batch,)."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    loss = torch.tensor([r.item() + beta * k.item() for r, k in zip(recon, kl)], dtype=recon.dtype)
    return {"loss": loss, "recon": recon, "kl": kl}
