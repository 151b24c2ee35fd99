"""Builds the loss from Python floats (.item() per image): right values, no graph."""
EXPECT = "fail"
MISTAKE = "no gradient: loss via .item()"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": torch.tensor([float(r) + beta * float(k) for r, k in zip(recon, kl)], dtype=logits.dtype), "recon": recon, "kl": kl}
