"""Sums over everything, then divides by the batch size."""
EXPECT = "pass"
MISTAKE = ""

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    """Mean rate and distortion, nats per image."""
    n = x.shape[0]
    mu, logvar = model.encode(x)
    std = logvar.mul(0.5).exp()
    z = mu + std * torch.randn_like(std)
    distortion = F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="sum") / n
    rate = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()) / n
    return rate, distortion
