"""torch.var_mean with correction=0."""
EXPECT = "pass"
MISTAKE = ""

import torch


def count_active_units(mu, threshold=0.01):
    """Number of active latent dimensions."""
    variance, _ = torch.var_mean(mu, dim=0, correction=0)
    return int(torch.count_nonzero(variance > threshold))
