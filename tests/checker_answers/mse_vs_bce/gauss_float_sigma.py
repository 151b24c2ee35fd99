"""Turns log_sigma into a Python float: no gradient to a learned sigma, no per-pixel sigma."""
EXPECT = "fail"
MISTAKE = "no gradient: log_sigma through float()"

import math

import torch


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2 I) per image, nats, including the constant. Returns (batch,)."""
    sigma = math.exp(float(log_sigma))
    per_pixel = 0.5 * ((x - mean) / sigma) ** 2 + math.log(sigma) + 0.5 * math.log(2 * math.pi)
    return per_pixel.flatten(1).sum(1)
