"""Returns np.array(...) of the weight (a 0-d array)."""
EXPECT = "fail"
MISTAKE = "type: 0-d NumPy array"

import numpy as np


def linear_schedule(step, warmup_steps):
    if warmup_steps == 0:
        return np.array(1.0)
    return np.array(min(1.0, step / warmup_steps))
