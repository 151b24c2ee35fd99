"""Right: torch.square and log_sigma broadcast as a tensor on the input's device."""
EXPECT = "pass"
MISTAKE = "none"

import math

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_recon(mean, x, log_sigma):
    ls = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    nll = 0.5 * torch.square(x - mean) / torch.exp(2 * ls) + ls + 0.5 * math.log(2 * math.pi)
    return nll.sum(dim=(1, 2, 3))
