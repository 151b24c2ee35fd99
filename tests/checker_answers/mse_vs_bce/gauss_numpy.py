"""Computes the per-pixel terms in numpy and converts back."""
EXPECT = "fail"
MISTAKE = "no gradient: numpy round-trip"

import math

import numpy as np
import torch


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2 I) per image, nats, including the constant. Returns (batch,)."""
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    ls = log_sigma.detach().cpu().numpy()
    per_pixel = torch.from_numpy(0.5 * ((x - mean).detach().cpu().numpy() * np.exp(-ls)) ** 2 + ls + 0.5 * np.log(2 * np.pi))
    return per_pixel.flatten(1).sum(1)
