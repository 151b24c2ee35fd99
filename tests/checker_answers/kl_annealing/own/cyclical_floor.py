"""Starts every cycle at 0.1 instead of 0."""
EXPECT = "fail"
MISTAKE = "floor: beta >= 0.1"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    return max(0.1, min(1.0, (step % cycle_steps) / (ratio * cycle_steps)))
