"""Stable-looking softplus by torch.where: the unused branch overflows and the gradient is NaN."""
EXPECT = "fail"
MISTAKE = "NaN gradient from torch.where at large logits"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = (torch.where(logits > 0, logits + torch.log1p(torch.exp(-logits)), torch.log1p(torch.exp(logits))) - x * logits).flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
