"""Sums the squared error first and adds 784*log(sigma): right only for one scalar sigma."""
EXPECT = "fail"
MISTAKE = "assumes one scalar sigma (per-pixel sigma breaks)"

import math

import torch


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2 I) per image, nats, including the constant. Returns (batch,)."""
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    sse = (x - mean).pow(2).flatten(1).sum(1)
    return 0.5 * sse * torch.exp(-2 * log_sigma) + 784 * (log_sigma + 0.5 * math.log(2 * math.pi))
