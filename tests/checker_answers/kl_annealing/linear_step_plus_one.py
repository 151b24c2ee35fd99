"""Uses (step + 1): beta is 1/T at step 0, not 0."""
EXPECT = "fail"
MISTAKE = "off-by-one: beta_0 = 1/T"

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return min(1.0, (step + 1) / warmup_steps)
