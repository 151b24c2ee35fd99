"""Estimates the rate as log q(z|x) - log p(z) at the one sampled z instead of the closed form."""
EXPECT = "fail"
MISTAKE = "rate: one-sample Monte-Carlo instead of closed form"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    """Mean rate and distortion of a VAE on the batch x, nats per image."""
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = model.decode(z)
    distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    rate = (-0.5 * ((z - mu) ** 2 / logvar.exp() + logvar) + 0.5 * z.pow(2)).sum(1)
    return rate.mean(), distortion.mean()
