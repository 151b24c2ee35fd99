"""Right: log(1 + e^l) as torch.logaddexp(0, l), KL as 0.5 * (mu^2 + var - 1 - logvar)."""
EXPECT = "pass"
MISTAKE = "none"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = (torch.logaddexp(torch.zeros_like(logits), logits) - x * logits).flatten(1).sum(1)
    kl = 0.5 * (mu * mu + torch.exp(logvar) - 1 - logvar).sum(dim=1)
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
