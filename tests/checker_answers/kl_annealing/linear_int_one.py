"""Writes min(1, ...): returns the int 1 after the warm-up and for warmup_steps = 0."""
EXPECT = "fail"
MISTAKE = "types: returns int 1, not float"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1
    return min(1, step / warmup_steps)
