"""Right: model(x) draws z; rate from torch.distributions.kl_divergence."""
EXPECT = "pass"
MISTAKE = "none"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    logits, mu, logvar = model(x)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    rate = torch.distributions.kl_divergence(q, p).sum(-1).mean()
    distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    return rate, distortion
