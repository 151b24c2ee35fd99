"""Ramps over the whole cycle: (step % C) / C."""
EXPECT = "fail"
MISTAKE = "ramp over the whole cycle"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return (step % cycle_steps) / cycle_steps
