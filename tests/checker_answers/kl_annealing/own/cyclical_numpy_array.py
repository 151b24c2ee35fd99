"""Clips a one-element NumPy array."""
EXPECT = "fail"
MISTAKE = "type: one-element NumPy array"

import numpy as np


def cyclical_schedule(step, cycle_steps, ratio=0.5):
    return np.clip(np.array([(step % cycle_steps) / (ratio * cycle_steps)]), 0.0, 1.0)
