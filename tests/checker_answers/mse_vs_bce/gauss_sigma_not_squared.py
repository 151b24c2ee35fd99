"""Divides the squared error by 2 sigma instead of 2 sigma^2."""
EXPECT = "fail"
MISTAKE = "Gaussian: divides by sigma, not sigma^2"

import math

import torch


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2 I) per image, nats, including the constant. Returns (batch,)."""
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    per_pixel = 0.5 * (x - mean) ** 2 * torch.exp(-log_sigma) + log_sigma + 0.5 * math.log(2 * math.pi)
    return per_pixel.flatten(1).sum(1)
