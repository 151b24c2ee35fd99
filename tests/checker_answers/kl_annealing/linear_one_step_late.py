"""Counts steps from 1 (step - 1), clipped at 0: one step late."""
EXPECT = "fail"
MISTAKE = "off-by-one: one step late"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return max(0.0, min(1.0, (step - 1) / warmup_steps))
