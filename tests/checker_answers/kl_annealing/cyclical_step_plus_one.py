"""Uses (step + 1) % C: each cycle starts above 0."""
EXPECT = "fail"
MISTAKE = "off-by-one: cycle starts above 0"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return min(1.0, ((step + 1) % cycle_steps) / (ratio * cycle_steps))
