"""Averages the variance of mini-batches of 128 means, as an evaluation loop would."""
EXPECT = "fail"
MISTAKE = "active units: per-mini-batch variance"

import torch


def count_active_units(mu, threshold=0.01):
    variances = [b.var(dim=0, unbiased=False) for b in mu.split(128)]
    return int((torch.stack(variances).mean(0) > threshold).sum())
