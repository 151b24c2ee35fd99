"""Measures the distortion as squared error of sigmoid(logits), not the BCE."""
EXPECT = "fail"
MISTAKE = "distortion: squared error instead of -log p(x|z)"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    """Mean rate and distortion of a VAE on the batch x, nats per image."""
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = model.decode(z)
    distortion = ((torch.sigmoid(logits) - x) ** 2).flatten(1).sum(1)
    rate = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return rate.mean(), distortion.mean()
