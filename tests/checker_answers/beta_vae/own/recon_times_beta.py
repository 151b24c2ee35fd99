"""Weights the reconstruction by 1/beta and the KL by 1 (a rescaled loss), and reports those terms."""
EXPECT = "fail"
MISTAKE = "recon depends on beta"

import numpy as np
import torch
import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1) / beta if beta else F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return {"loss": recon + kl, "recon": recon, "kl": kl}
