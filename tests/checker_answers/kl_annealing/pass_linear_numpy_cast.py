"""np.clip, then cast to a Python float."""
EXPECT = "pass"
MISTAKE = ""

import numpy as np


def linear_schedule(step, warmup_steps):
    """KL weight at step `step`."""
    if warmup_steps <= 0:
        return 1.0
    return float(np.clip(step / warmup_steps, 0.0, 1.0))
