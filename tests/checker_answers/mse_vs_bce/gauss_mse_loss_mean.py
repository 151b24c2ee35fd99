"""Uses F.mse_loss (mean over batch and pixels) times 784."""
EXPECT = "fail"
MISTAKE = "reduction: F.mse_loss averages over the batch"

import math

import torch
import torch.nn.functional as F


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2 I) per image, nats, including the constant. Returns (batch,)."""
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    return 784 * (0.5 * F.mse_loss(mean, x) * torch.exp(-2 * log_sigma) + log_sigma + 0.5 * math.log(2 * math.pi))
