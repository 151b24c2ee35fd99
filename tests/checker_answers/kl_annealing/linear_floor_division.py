"""Integer division step // warmup_steps: beta jumps from 0 to 1."""
EXPECT = "fail"
MISTAKE = "integer division: beta jumps 0 -> 1"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return min(1.0, step // warmup_steps)
