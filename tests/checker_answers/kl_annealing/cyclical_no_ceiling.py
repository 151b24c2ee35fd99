"""Forgets the min(1, ...): beta rises to 1/ratio."""
EXPECT = "fail"
MISTAKE = "ceiling missing: beta exceeds 1"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return (step % cycle_steps) / (ratio * cycle_steps)
