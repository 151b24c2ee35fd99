"""Computes the KL in NumPy and converts back to a tensor."""
EXPECT = "fail"
MISTAKE = "no gradient: KL through NumPy"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = torch.from_numpy(-0.5 * (1 + logvar.detach().numpy() - mu.detach().numpy() ** 2 - np.exp(logvar.detach().numpy())).sum(1)).to(logits.dtype)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
