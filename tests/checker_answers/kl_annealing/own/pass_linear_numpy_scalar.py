"""Right: np.clip of a float returns a NumPy float64 scalar (a float)."""
EXPECT = "pass"
MISTAKE = "none"

import numpy as np


def linear_schedule(step, warmup_steps):
    return 1.0 if warmup_steps == 0 else np.clip(step / warmup_steps, 0.0, 1.0)
