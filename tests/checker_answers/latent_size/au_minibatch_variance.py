"""Averages the variance of mini-batches of 128 instead of taking it over all N images."""
EXPECT = "fail"
MISTAKE = "active units: per-mini-batch variance"

import torch


def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = torch.stack([chunk.var(dim=0, unbiased=False) for chunk in mu.split(128)]).mean(0)
    return int((variance > threshold).sum())
