"""Truncates the ramp length to an int (int(ratio * cycle_steps))."""
EXPECT = "fail"
MISTAKE = "ramp length truncated to int"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return min(1.0, (step % cycle_steps) / int(ratio * cycle_steps))
