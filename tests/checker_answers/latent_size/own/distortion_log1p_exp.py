"""Distortion as -(x*l - log1p(exp(l)))."""
EXPECT = "fail"
MISTAKE = "overflow: log1p(exp(l)) in float32"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = model.decode(z)
    distortion = -(x * logits - torch.log1p(torch.exp(logits))).flatten(1).sum(1)
    rate = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return rate.mean(), distortion.mean()
