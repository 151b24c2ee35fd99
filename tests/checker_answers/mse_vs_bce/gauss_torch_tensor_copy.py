"""Wraps log_sigma with torch.tensor(...), which copies and detaches a learned sigma."""
EXPECT = "fail"
MISTAKE = "no gradient: torch.tensor(log_sigma) detaches"

import math

import torch


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2 I) per image, nats, including the constant. Returns (batch,)."""
    log_sigma = torch.tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    per_pixel = 0.5 * ((x - mean) * torch.exp(-log_sigma)) ** 2 + log_sigma + 0.5 * math.log(2 * math.pi)
    return per_pixel.flatten(1).sum(1)
