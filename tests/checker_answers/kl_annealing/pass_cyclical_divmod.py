"""divmod for the position in the cycle, then an if."""
EXPECT = "pass"
MISTAKE = ""

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`."""
    _, position = divmod(step, cycle_steps)
    ramp = ratio * cycle_steps
    if position >= ramp:
        return 1.0
    return position / ramp
