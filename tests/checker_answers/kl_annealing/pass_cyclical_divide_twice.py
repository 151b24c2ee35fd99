"""Divides by cycle_steps and then by ratio (equal up to rounding)."""
EXPECT = "pass"
MISTAKE = ""

def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`."""
    return float(min(1.0, (step % cycle_steps) / cycle_steps / ratio))
