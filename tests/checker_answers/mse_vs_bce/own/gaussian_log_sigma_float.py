"""Turns log_sigma into a Python float with float()."""
EXPECT = "fail"
MISTAKE = "no gradient: float(log_sigma)"

import math

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_recon(mean, x, log_sigma):
    s = float(log_sigma) if not torch.is_tensor(log_sigma) or log_sigma.numel() == 1 else log_sigma
    sigma = torch.exp(torch.as_tensor(s, dtype=mean.dtype))
    per_pixel = 0.5 * ((x - mean) / sigma) ** 2 + torch.log(sigma) + 0.5 * math.log(2 * math.pi)
    return per_pixel.flatten(1).sum(1)
