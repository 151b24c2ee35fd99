"""Uses the variance of the last mini-batch of 256 means only."""
EXPECT = "fail"
MISTAKE = "active units: variance of one mini-batch"

import torch


def count_active_units(mu, threshold=0.01):
    return int((mu[-256:].var(dim=0, unbiased=False) > threshold).sum())
