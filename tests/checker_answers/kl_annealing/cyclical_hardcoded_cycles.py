"""Reads cycle_steps as the total number of steps and hard-codes 4 cycles."""
EXPECT = "fail"
MISTAKE = "hard-coded number of cycles"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    period = cycle_steps // 4
    return min(1.0, (step % period) / (ratio * period))
