"""Hard-codes a warm-up of 10 steps."""
EXPECT = "fail"
MISTAKE = "warm-up length hard-coded"

def linear_schedule(step, warmup_steps):
    if warmup_steps == 0:
        return 1.0
    return min(1.0, step / 10)
