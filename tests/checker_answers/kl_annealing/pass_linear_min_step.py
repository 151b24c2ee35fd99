"""min(step, T) / T."""
EXPECT = "pass"
MISTAKE = ""

def linear_schedule(step, warmup_steps):
    """KL weight at step `step`."""
    return 1.0 if warmup_steps == 0 else min(step, warmup_steps) / warmup_steps
