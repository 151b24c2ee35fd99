"""No special case for warmup_steps = 0: divides by zero."""
EXPECT = "fail"
MISTAKE = "warmup_steps = 0 divides by zero"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    return min(1.0, step / warmup_steps)
