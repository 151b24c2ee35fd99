"""Cycles four times (Fu et al.'s M = 4), then stays at 1."""
EXPECT = "fail"
MISTAKE = "number of cycles hard-coded"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    if step >= 4 * cycle_steps:
        return 1.0
    return min(1.0, (step % cycle_steps) / (ratio * cycle_steps))
