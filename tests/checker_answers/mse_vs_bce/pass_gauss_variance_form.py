"""Written with the variance: (x-m)^2 / (2 var) + 1/2 log(2 pi var)."""
EXPECT = "pass"
MISTAKE = ""

import math

import torch


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2) per image, nats."""
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    var = torch.exp(2 * log_sigma)
    nll = (x - mean).square() / (2 * var) + 0.5 * (math.log(2 * math.pi) + 2 * log_sigma)
    return nll.sum(dim=tuple(range(1, nll.dim())))
