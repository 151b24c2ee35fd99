"""Uses // in the ramp: beta jumps between 0 and 1."""
EXPECT = "fail"
MISTAKE = "floor division: beta jumps 0 -> 1"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return min(1.0, (step % cycle_steps) // (ratio * cycle_steps))
