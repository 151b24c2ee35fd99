"""Right: position in the cycle with math.fmod, ramp length as a float."""
EXPECT = "pass"
MISTAKE = "none"

import math


def cyclical_schedule(step, cycle_steps, ratio=0.5):
    ramp = ratio * cycle_steps
    t = math.fmod(step, cycle_steps)
    return 1.0 if t >= ramp else t / ramp
