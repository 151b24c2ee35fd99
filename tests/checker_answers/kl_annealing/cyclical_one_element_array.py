"""Computes with np.array([...]): returns a one-element array."""
EXPECT = "fail"
MISTAKE = "types: returns a one-element numpy array"

import numpy as np


def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return np.minimum(1.0, np.array([step % cycle_steps]) / (ratio * cycle_steps))
