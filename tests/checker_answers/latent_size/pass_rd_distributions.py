"""Normal.rsample and kl_divergence; returns Python floats."""
EXPECT = "pass"
MISTAKE = ""

import torch
from torch.distributions import Normal, kl_divergence
import torch.nn.functional as F


def rate_distortion(model, x):
    """Mean rate and distortion, nats per image."""
    mu, logvar = model.encode(x)
    q = Normal(mu, (0.5 * logvar).exp())
    z = q.rsample()
    logits = model.decode(z)
    distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="none").reshape(len(x), -1).sum(-1)
    rate = kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    return float(rate.mean()), float(distortion.mean())
