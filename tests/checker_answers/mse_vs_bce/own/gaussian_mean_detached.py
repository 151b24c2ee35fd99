"""Detaches the decoder mean in the squared error."""
EXPECT = "fail"
MISTAKE = "no gradient: mean detached"

import math

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_recon(mean, x, log_sigma):
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype)
    per_pixel = 0.5 * ((x - mean.detach()) * torch.exp(-log_sigma)) ** 2 + log_sigma + 0.5 * math.log(2 * math.pi)
    return per_pixel.flatten(1).sum(1)
