"""Starts at 0.01 instead of 0 ('never switch the KL off entirely')."""
EXPECT = "fail"
MISTAKE = "floor wrong: beta starts at 0.01"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return max(0.01, min(1.0, step / warmup_steps))
