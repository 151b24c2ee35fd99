"""The cyclical schedule is the linear one applied to the position in the cycle."""
EXPECT = "pass"
MISTAKE = ""

def linear_schedule(step, warmup_steps):
    """KL weight at optimiser step `step` (0, 1, 2, ...): rises linearly from 0 to 1."""
    if warmup_steps == 0:
        return 1.0
    return min(1.0, step / warmup_steps)


def cyclical_schedule(step, cycle_steps, ratio=0.5):
    """KL weight at step `step`: the linear warm-up, restarted every cycle."""
    return linear_schedule(step % cycle_steps, ratio * cycle_steps)
