"""Returns a 0-d torch tensor."""
EXPECT = "fail"
MISTAKE = "types: returns a 0-d tensor"

import torch


def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return torch.tensor(step / warmup_steps).clamp(max=1.0)
