"""Divides by warmup_steps - 1: reaches 1 one step early."""
EXPECT = "fail"
MISTAKE = "off-by-one: reaches 1 a step early"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return min(1.0, step / (warmup_steps - 1))
