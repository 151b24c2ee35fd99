"""Right: the mean over all rows first, then squared deviations summed chunk by chunk."""
EXPECT = "pass"
MISTAKE = "none"

import torch


def count_active_units(mu, threshold=0.01):
    mean = mu.mean(dim=0)
    total = sum(((b - mean) ** 2).sum(dim=0) for b in mu.split(128))
    return int((total / len(mu) > threshold).sum())
