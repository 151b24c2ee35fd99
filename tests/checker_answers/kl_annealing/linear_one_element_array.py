"""Computes with np.array([step]): returns a one-element array."""
EXPECT = "fail"
MISTAKE = "types: returns a one-element numpy array"

import numpy as np


def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return np.minimum(1.0, np.array([step]) / warmup_steps)
