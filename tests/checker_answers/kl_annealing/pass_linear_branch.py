"""if/else instead of min; warmup_steps = 0 falls into the first branch."""
EXPECT = "pass"
MISTAKE = ""

def linear_schedule(step, warmup_steps):
    """KL weight at step `step`."""
    if step >= warmup_steps:
        return 1.0
    return step / warmup_steps
