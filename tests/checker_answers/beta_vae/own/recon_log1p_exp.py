"""Bernoulli log-likelihood written as x*l - log1p(exp(l))."""
EXPECT = "fail"
MISTAKE = "overflow: log1p(exp(l)) is inf in float32 at l = 100"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = -(x * logits - torch.log1p(torch.exp(logits))).flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
