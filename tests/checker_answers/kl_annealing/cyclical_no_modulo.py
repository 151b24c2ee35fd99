"""Forgets the modulo: the schedule never restarts."""
EXPECT = "fail"
MISTAKE = "no restart (modulo missing)"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return min(1.0, step / (ratio * cycle_steps))
