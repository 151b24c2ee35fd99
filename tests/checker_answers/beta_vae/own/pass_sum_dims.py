"""Right: sums over explicit dimensions, a tensor beta, float64 kept."""
EXPECT = "pass"
MISTAKE = "none"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=(1, 2, 3))
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=-1)
    return {"loss": recon + torch.as_tensor(beta, dtype=kl.dtype) * kl, "recon": recon, "kl": kl}
