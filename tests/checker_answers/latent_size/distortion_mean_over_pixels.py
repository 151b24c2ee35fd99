"""Averages the cross-entropy over pixels instead of summing."""
EXPECT = "fail"
MISTAKE = "reduction: mean over pixels"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    """Mean rate and distortion of a VAE on the batch x, nats per image."""
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = model.decode(z)
    distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).mean(1)
    rate = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return rate.mean(), distortion.mean()
