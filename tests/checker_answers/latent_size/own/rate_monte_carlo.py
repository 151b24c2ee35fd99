"""Rate as the one-sample Monte-Carlo KL, log q(z|x) - log p(z) at the drawn z."""
EXPECT = "fail"
MISTAKE = "rate: Monte-Carlo instead of closed form"

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = model.decode(z)
    distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    rate = (torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).sum(1)
    return rate.mean(), distortion.mean()
