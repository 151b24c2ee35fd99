"""-Normal(mean, sigma).log_prob(x), summed over pixels."""
EXPECT = "pass"
MISTAKE = ""

import torch
from torch.distributions import Normal


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2) per image, nats."""
    sigma = torch.exp(torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device))
    return -Normal(mean, sigma).log_prob(x).flatten(1).sum(1)
