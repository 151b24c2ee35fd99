"""Computes the Gaussian NLL in NumPy."""
EXPECT = "fail"
MISTAKE = "no gradient: NumPy"

import math

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_recon(mean, x, log_sigma):
    m, t = mean.detach().numpy(), x.detach().numpy()
    s = np.asarray(log_sigma.detach() if torch.is_tensor(log_sigma) else log_sigma)
    per_pixel = 0.5 * ((t - m) * np.exp(-s)) ** 2 + s + 0.5 * np.log(2 * np.pi)
    return per_pixel.reshape(len(m), -1).sum(1)
