"""Returns torch.tensor([weight]), a one-element tensor."""
EXPECT = "fail"
MISTAKE = "type: one-element tensor"

import torch


def linear_schedule(step, warmup_steps):
    if warmup_steps == 0:
        return torch.tensor([1.0])
    return torch.tensor([min(1.0, step / warmup_steps)])
