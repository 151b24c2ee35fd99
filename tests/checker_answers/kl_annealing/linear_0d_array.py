"""Returns np.array(...) of the weight: a 0-d numpy array, not a float."""
EXPECT = "fail"
MISTAKE = "types: returns a 0-d numpy array"

import numpy as np


def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return np.array(min(1.0, step / warmup_steps))
