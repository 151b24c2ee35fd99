"""Handles a float log_sigma with math and a tensor with torch; pixels counted from the shape."""
EXPECT = "pass"
MISTAKE = ""

import math

import torch


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2) per image, nats."""
    if not torch.is_tensor(log_sigma):
        log_sigma = torch.full((), float(log_sigma), dtype=mean.dtype, device=mean.device)
    inv_var = torch.exp(-2.0 * log_sigma)
    per_pixel = 0.5 * (x - mean) ** 2 * inv_var + log_sigma + 0.5 * math.log(2.0 * math.pi)
    per_pixel = per_pixel.expand_as(mean)
    return per_pixel.reshape(len(mean), -1).sum(dim=1)
