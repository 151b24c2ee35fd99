"""Right: rate as 0.5 * sum(mu^2 + var - 1 - logvar), distortion with softplus, z from model.reparameterize."""
EXPECT = "pass"
MISTAKE = "none"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    mu, logvar = model.encode(x)
    z = model.reparameterize(mu, logvar)
    logits = model.decode(z)
    distortion = (F.softplus(logits) - x * logits).sum(dim=(1, 2, 3))
    rate = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(dim=1)
    return rate.mean(), distortion.mean()
