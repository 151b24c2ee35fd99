"""Checkers for the KL annealing exercise: the linear and the cyclical schedule."""
from __future__ import annotations

import torch

from ._harness import Checker, answer_rtol, close, compare, number

__all__ = ["check_linear_schedule", "check_cyclical_schedule"]


def _cyclical_reference(step: int, cycle_steps: int, ratio: float) -> float:
    return min(1.0, (step % cycle_steps) / (ratio * cycle_steps))


def _check_unit_interval_from_zero(c, values, off_by_one, off_by_one_hint):
    """Steps 1 and 2 of both schedule checkers: every weight in [0, 1], and 0 at step 0."""
    __tracebackhide__ = True
    with c.step("a weight in [0, 1]"):
        for v in values:
            if not (-answer_rtol(v) <= v.item() <= 1 + answer_rtol(v)):
                c.fail(f"the weight must stay in [0, 1]; got {v.item():.6g} "
                       "(cap it with min(1.0, ...)).")
    with c.step("starts at 0"):
        if not close(values[0], 0.0):
            if close(values[0], off_by_one):
                c.fail(off_by_one_hint)
            c.fail(f"at step 0 the weight must be 0, {compare(values[0], 0.0)}.")


def check_linear_schedule(fn) -> None:
    """Check ``fn(step, warmup_steps) -> beta``: ``min(1, step / warmup_steps)``.

    ``step`` counts optimiser steps from 0, so β is 0 at the first step, reaches 1 at
    ``step == warmup_steps`` and stays there; ``warmup_steps == 0`` means no annealing
    (β = 1). Prints ``linear schedule: 5/5 checks passed`` or raises ``AssertionError``.
    """
    c = Checker("linear schedule", "linear_schedule")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame

    def beta(step, warmup):
        __tracebackhide__ = True
        return number(c, c.call(fn, step, warmup), f"linear_schedule({step}, {warmup})")

    values = [beta(step, 10) for step in range(31)]
    _check_unit_interval_from_zero(
        c, values, off_by_one=1 / 10,
        off_by_one_hint="off by one: at step 0 the weight must be 0; use step / warmup_steps "
                        "with steps counted from 0, not (step + 1) / warmup_steps.")
    with c.step("a linear ramp"):
        for step, warmup in ((5, 10), (3, 12), (7, 8)):
            got, want = beta(step, warmup), step / warmup
            if close(got, want):
                continue
            if close(got, 0.0):
                c.fail(f"linear_schedule({step}, {warmup}) is 0; integer division? "
                       "Use step / warmup_steps (true division).")
            if close(got, (step + 1) / warmup):
                c.fail("off by one: use step / warmup_steps, not (step + 1) / warmup_steps.")
            if close(got, step / (warmup - 1)) or close(got, step / (warmup + 1)):
                c.fail("off by one: divide by warmup_steps itself.")
            c.fail(f"linear_schedule({step}, {warmup}) should be {want:.6g}: "
                   f"{compare(got, want)}.")
    with c.step("reaches 1 and stays"):
        for step, warmup in ((10, 10), (11, 10), (1000, 10)):
            got = beta(step, warmup)
            if not close(got, 1.0):
                c.fail(f"linear_schedule({step}, {warmup}) should be 1 (the ramp is over), "
                       f"{compare(got, 1.0)}: use min(1.0, step / warmup_steps).")
    with c.step("no warm-up means 1"):
        try:
            got = beta(0, 0)
        except AssertionError as err:
            if "ZeroDivisionError" in str(err):
                c.fail("warmup_steps=0 means no annealing: return 1.0 instead of dividing by "
                       "zero.")
            raise
        if not close(got, 1.0):
            c.fail(f"warmup_steps=0 means no annealing: the weight must be 1, "
                   f"{compare(got, 1.0)}.")
    c.passed()


def check_cyclical_schedule(fn) -> None:
    """Check ``fn(step, cycle_steps, ratio=0.5) -> beta`` (Fu et al., 2019).

    Within each cycle of ``cycle_steps`` optimiser steps (counted from 0), β rises linearly
    from 0 to 1 over the first ``ratio * cycle_steps`` steps, then stays at 1; the next
    cycle starts again at 0: ``min(1, (step % cycle_steps) / (ratio * cycle_steps))``.
    Prints ``cyclical schedule: 5/5 checks passed`` or raises ``AssertionError``.
    """
    c = Checker("cyclical schedule", "cyclical_schedule")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame

    def beta(step, cycle, ratio=0.5):
        __tracebackhide__ = True
        return number(c, c.call(fn, step, cycle, ratio),
                       f"cyclical_schedule({step}, {cycle}, {ratio})")

    values = [beta(step, 8) for step in range(40)]
    _check_unit_interval_from_zero(
        c, values, off_by_one=1 / 4,
        off_by_one_hint="off by one: at step 0 the weight must be 0; count steps from 0.")
    with c.step("one cycle's shape"):
        want = [0, 0.25, 0.5, 0.75, 1, 1, 1, 1]
        if not close(torch.stack(values[:8]), want):
            if values[4] < 1.0 and close(values[4], 0.5):
                c.fail("the ramp takes the whole cycle; it must reach 1 after "
                       "ratio * cycle_steps steps: divide by ratio * cycle_steps.")
            c.fail(f"with cycle_steps=8, ratio=0.5 the weights at steps 0..7: "
                   f"{compare(torch.stack(values[:8]), want)}.")
    with c.step("restarts every cycle"):
        if not (close(values[8], 0.0) and close(values[10], 0.5)):
            if close(values[8], 1.0):
                c.fail("the schedule never restarts: use step % cycle_steps so that every "
                       "cycle starts again at 0.")
            c.fail("each cycle must restart at 0: steps 8 and 10 (cycle_steps=8) "
                   f"{compare(torch.stack([values[8], values[10]]), [0.0, 0.5])}.")
    with c.step("other ratios"):
        for cycle, ratio in ((10, 0.25), (10, 0.8), (7, 1.0)):
            for step in range(3 * cycle):
                got, want = beta(step, cycle, ratio), _cyclical_reference(step, cycle, ratio)
                if not close(got, want):
                    if close(got, _cyclical_reference(step, cycle, 0.5)):
                        c.fail("ratio is ignored: the ramp must last ratio * cycle_steps steps.")
                    c.fail(f"cyclical_schedule({step}, {cycle}, {ratio}) should be "
                           f"{want:.6g}: {compare(got, want)}.")
    c.passed()
