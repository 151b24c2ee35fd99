"""Hard-codes the ratio 0.5 of the paper instead of using `ratio`."""
EXPECT = "fail"
MISTAKE = "ratio ignored (0.5 hard-coded)"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return min(1.0, (step % cycle_steps) / (0.5 * cycle_steps))
