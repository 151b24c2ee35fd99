"""One sigma for the whole batch: exp(0.5 * logvar).mean()."""
EXPECT = "fail"
MISTAKE = "sigma shared over the batch"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar).mean() * torch.randn_like(mu)
    logits = model.decode(z)
    distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    rate = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return rate.mean(), distortion.mean()
