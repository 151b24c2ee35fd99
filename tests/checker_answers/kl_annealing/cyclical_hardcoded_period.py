"""Hard-codes a period of 1000 steps, ignoring cycle_steps."""
EXPECT = "fail"
MISTAKE = "hard-coded period"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return min(1.0, (step % 1000) / (ratio * 1000))
