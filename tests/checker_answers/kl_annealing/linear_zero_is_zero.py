"""Returns 0 for warmup_steps = 0 (reads it as 'KL off')."""
EXPECT = "fail"
MISTAKE = "warmup_steps = 0 gives beta = 0"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 0.0
    return min(1.0, step / warmup_steps)
