"""Hard-codes the period (8 steps, the notebook's first example)."""
EXPECT = "fail"
MISTAKE = "period hard-coded"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    return min(1.0, (step % 8) / (ratio * cycle_steps))
