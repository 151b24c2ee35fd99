"""Takes the step modulo the ramp length: a sawtooth with no flat part."""
EXPECT = "fail"
MISTAKE = "modulo by the ramp length"

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: a 0 -> 1 ramp over ratio * cycle_steps, repeated every cycle."""
    return min(1.0, (step % (ratio * cycle_steps)) / (ratio * cycle_steps))
