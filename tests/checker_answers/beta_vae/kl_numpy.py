"""Computes the KL in numpy and converts it back, losing the gradient."""
EXPECT = "fail"
MISTAKE = "no gradient: KL via a numpy round-trip"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats: {"loss", "recon", "kl"}, each (batch,)."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    m, lv = mu.detach().cpu().numpy(), logvar.detach().cpu().numpy()
    kl = torch.from_numpy(-0.5 * (1 + lv - m**2 - np.exp(lv)).sum(1)).to(mu.device)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
