"""Counts steps from 1."""
EXPECT = "fail"
MISTAKE = "off by one"

def linear_schedule(step, warmup_steps):
    if warmup_steps == 0:
        return 1.0
    return min(1.0, (step + 1) / warmup_steps)
