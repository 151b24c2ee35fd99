"""Forgets the min(1, ...): beta keeps growing after the warm-up."""
EXPECT = "fail"
MISTAKE = "ceiling missing: beta exceeds 1"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return step / warmup_steps
