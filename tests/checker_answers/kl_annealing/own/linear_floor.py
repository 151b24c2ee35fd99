"""Never lets beta drop below 0.05."""
EXPECT = "fail"
MISTAKE = "floor: beta >= 0.05"

def linear_schedule(step, warmup_steps):
    if warmup_steps == 0:
        return 1.0
    return max(0.05, min(1.0, step / warmup_steps))
