"""Returns beta * KL as 'kl' and adds it as it is."""
EXPECT = "fail"
MISTAKE = "KL already multiplied by beta"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = beta * -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + kl, "recon": recon, "kl": kl}
