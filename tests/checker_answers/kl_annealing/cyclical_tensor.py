"""Returns a 0-d torch tensor."""
EXPECT = "fail"
MISTAKE = "types: returns a 0-d tensor"

import torch


def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return torch.clamp(torch.tensor((step % cycle_steps) / (ratio * cycle_steps)), max=1.0)
