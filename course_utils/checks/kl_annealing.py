"""Checkers for the KL annealing exercise: the linear and the cyclical schedule.

Each checker evaluates the learner's schedule once on a grid of steps and schedule lengths
(short and long warm-ups and cycles, twenty-five cycles in a row, steps in the billions), so
that a hard-coded length, period or number of cycles shows. A wrong schedule is put down to
a known mistake only when that mistake reproduces the learner's weights at *every* point of
the grid (a floor at the start is not an off-by-one, though both give a weight above 0 at
step 0); otherwise the hint names the first point that is wrong.
"""
from __future__ import annotations

import numpy as np
import torch

from ._harness import Checker, close, compare, number

__all__ = ["check_linear_schedule", "check_cyclical_schedule"]


def _linear_reference(step: int, warmup: int) -> float:
    return 1.0 if warmup == 0 else min(1.0, step / warmup)


def _cyclical_reference(step: int, cycle_steps: int, ratio: float) -> float:
    return min(1.0, (step % cycle_steps) / (ratio * cycle_steps))


def _as_weight(c: Checker, value, what: str) -> float:
    """The learner's weight as a Python float, or a hint about its type.

    A plain Python number is asked for: a ``float`` (NumPy's float64 is one) or an ``int``
    (``min(1, step / warmup_steps)`` gives the int 1 once the ramp is over). NumPy arrays
    of any shape cannot weight a torch loss (``ndarray * Tensor`` raises ``TypeError``);
    tensors and other NumPy scalars are not the float the exercise asks for.
    """
    __tracebackhide__ = True
    if isinstance(value, np.ndarray):
        c.fail(f"{what} returns a NumPy array of shape {value.shape}, not a number: the loss "
               "cannot use it (ndarray * Tensor raises TypeError). Return a plain Python "
               "float: float(...), or min(1.0, ...) of Python numbers, no np.array.")
    if isinstance(value, torch.Tensor):
        shape = "a 0-d tensor" if value.dim() == 0 else f"a tensor of shape {tuple(value.shape)}"
        c.fail(f"{what} returns {shape} ({value.dtype}), not a number: return a plain Python "
               "float, float(...) or .item(); a schedule needs no torch.")
    if isinstance(value, np.generic) and not isinstance(value, (float, int)):
        c.fail(f"{what} returns a NumPy {type(value).__name__} scalar: return a plain Python "
               "float, float(...).")
    got = number(c, value, what)
    return float(got)


class _Grid:
    """The learner's weights on a grid of points (tuples of arguments), computed once.

    A point where the learner's code raised ``ZeroDivisionError`` is kept as ``None``: a
    known mistake explains it only if the mistake divides by zero there too, so that
    ``step / (warmup_steps - 1)`` is named as such, not as a crash at ``warmup_steps=1``.
    """

    def __init__(self, c: Checker, fn, name: str, points):
        __tracebackhide__ = True
        self.c, self.fn, self.name, self.values = c, fn, name, {}
        self.rtol = 1e-6                                     # Python floats: float64
        self.error = None
        for p in points:
            try:
                self.values[p] = self(*p)
            except AssertionError as err:
                if "ZeroDivisionError" not in str(err):
                    raise
                self.values[p], self.error = None, self.error or err

    def __call__(self, *p) -> float:
        __tracebackhide__ = True
        if p not in self.values:
            value = self.c.call(self.fn, *p)
            self.values[p] = _as_weight(self.c, value, f"{self.name}{p}")
        if self.values[p] is None:
            raise self.error
        return self.values[p]

    def same(self, a: float, b: float) -> bool:
        return abs(a - b) <= self.rtol * (abs(b) + 1)

    def matches(self, f, points=None) -> bool:
        """The learner's weights equal ``f(*p)`` at every point (all points by default)."""
        points = self.values if points is None else points
        for p in points:
            try:
                want = f(*p)
            except ZeroDivisionError:
                want = None
            got = self.values[p]
            if (got is None) != (want is None) or (got is not None and not self.same(got, want)):
                return False
        return True

    def first_wrong(self, reference, points):
        """The first point (and its right weight) where the learner's weight is wrong."""
        for p in points:
            if not self.same(self(*p), reference(*p)):
                return p, reference(*p)
        return None

    def explain_error(self, mistakes):
        """If the learner divided by zero somewhere: the mistake that explains it, else the
        error itself."""
        __tracebackhide__ = True
        if self.error:
            for mistake, hint in mistakes:
                if self.matches(mistake):
                    self.c.fail(hint)
            raise self.error

    def diagnose(self, mistakes, otherwise: str):
        """Fail with the hint of the first mistake that explains every weight, else ``otherwise``."""
        __tracebackhide__ = True
        for mistake, hint in mistakes:
            if self.matches(mistake):
                self.c.fail(hint)
        self.c.fail(otherwise)


def _capped(f):
    return lambda *p: min(1.0, f(*p))


# ------------------------------------------------------------------------ linear schedule

_LINEAR_WARMUPS = (10, 12, 8, 1, 3, 1000, 1_000_000)


def _linear_points():
    for w in _LINEAR_WARMUPS:
        steps = range(3 * w + 1) if w <= 12 else (0, 1, 2, w // 3, w // 2, w - 1, w, w + 1,
                                                  3 * w, 10 ** 9)
        for s in steps:
            yield (s, w)


def _linear_mistakes(grid: _Grid):
    """(function of (step, warmup_steps), hint): known linear-schedule mistakes."""
    floor = {w: grid.values[(0, w)] or 0.0 for w in _LINEAR_WARMUPS}
    one = grid.values[(1, 10)]
    hard = 1 / one if one is not None and 0 < one < 1 else None
    mistakes = [
        (_capped(lambda s, w: (s + 1) / w),
         "off by one: the weight is (step + 1) / warmup_steps; steps are counted from 0, so "
         "the weight at step 0 is 0: use step / warmup_steps."),
        (lambda s, w: max(0.0, min(1.0, (s - 1) / w)),
         "off by one: the weight is (step - 1) / warmup_steps, 0 for two steps; steps are "
         "counted from 0: use step / warmup_steps."),
        (_capped(lambda s, w: (s - 1) / w),
         "off by one: the weight is (step - 1) / warmup_steps, negative at step 0; steps are "
         "counted from 0: use step / warmup_steps."),
        (lambda s, w: max(floor[w], min(1.0, s / w)),
         f"the weight has a floor: it never goes below {floor[10]:.6g} (at step 0, "
         "warmup_steps=10), as with max(beta_min, ...); the schedule starts at exactly 0 "
         "and rises linearly: min(1.0, step / warmup_steps)."),
        (_capped(lambda s, w: s // w),
         "integer division: step // warmup_steps is 0 during the whole warm-up; use true "
         "division, step / warmup_steps."),
        (_capped(lambda s, w: s / (w + 1)),
         "the ramp reaches 1 one step late: divide by warmup_steps itself, not "
         "warmup_steps + 1."),
        (_capped(lambda s, w: s / (w - 1)),
         "the ramp reaches 1 one step early: divide by warmup_steps itself, not "
         "warmup_steps - 1."),
        (lambda s, w: s / w,
         "the weight keeps growing past 1: cap it with min(1.0, step / warmup_steps)."),
        (lambda s, w: 1.0 - min(1.0, s / w),
         "the weight falls from 1 to 0; it must rise from 0 at step 0 to 1 at warmup_steps: "
         "min(1.0, step / warmup_steps)."),
    ]
    if hard is not None:
        mistakes.append((_capped(lambda s, w: s / hard),
                         f"warmup_steps is ignored: the ramp always lasts {hard:.6g} steps (a "
                         "hard-coded length?); divide by warmup_steps."))
    return mistakes


def _weight_in_unit_interval(c, grid, mistakes, points, name: str, below: str) -> None:
    """The check step 'a weight in [0, 1]' of schedule ``name`` on ``points``; ``below`` says
    why a negative weight is wrong."""
    with c.step("a weight in [0, 1]"):
        for p in points:
            v = grid(*p)
            if v > 1 + grid.rtol or v < -grid.rtol:
                side = "above 1: cap it with min(1.0, ...)" if v > 1 else f"below 0: {below}"
                grid.diagnose(mistakes, f"the weight must stay in [0, 1]; "
                                        f"{name}{p} = {v:.6g} is {side}.")


def check_linear_schedule(fn) -> None:
    """Check ``fn(step, warmup_steps) -> beta``: ``min(1, step / warmup_steps)``, a float.

    ``step`` counts optimiser steps from 0, so β is 0 at the first step, reaches 1 at
    ``step == warmup_steps`` and stays there; ``warmup_steps == 0`` means no annealing
    (β = 1). Checked for warm-ups from 1 to a million steps and steps up to 10^9; the value
    must be a plain Python float (or int), not a NumPy array or a tensor, and weight the KL
    in the loss with the right gradient. Prints ``linear schedule: 7/7 checks passed`` or raises ``AssertionError``.
    """
    c = Checker("linear schedule", "linear_schedule")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame
    points = list(_linear_points())
    with c.step("returns a number for every step and warm-up length"):
        grid = _Grid(c, fn, "linear_schedule", points)
        grid.explain_error(_linear_mistakes(grid))
    mistakes = _linear_mistakes(grid)
    _weight_in_unit_interval(c, grid, mistakes, points, "linear_schedule",
                             "the weight starts at 0 and only rises")
    with c.step("starts at 0"):
        wrong = grid.first_wrong(_linear_reference, [(0, w) for w in _LINEAR_WARMUPS])
        if wrong:
            (p, want) = wrong
            grid.diagnose(mistakes, f"at step 0 the weight must be 0: linear_schedule{p} "
                                    f"{compare(grid(*p), want)}.")
    with c.step("a linear ramp"):
        ramp = [p for p in points if 0 < p[0] < p[1]]
        wrong = grid.first_wrong(_linear_reference, ramp)
        if wrong:
            (p, want) = wrong
            grid.diagnose(mistakes, f"linear_schedule{p} should be step / warmup_steps = "
                                    f"{want:.6g}: {compare(grid(*p), want)}.")
    with c.step("reaches 1 and stays"):
        wrong = grid.first_wrong(_linear_reference, [p for p in points if p[0] >= p[1]])
        if wrong:
            (p, want) = wrong
            grid.diagnose(mistakes, f"linear_schedule{p} should be 1 (the ramp is over), "
                                    f"{compare(grid(*p), 1.0)}: use min(1.0, step / "
                                    "warmup_steps).")
    with c.step("no warm-up means 1"):
        try:
            got = grid(0, 0)
        except AssertionError as err:
            if "ZeroDivisionError" in str(err):
                c.fail("warmup_steps=0 means no annealing: return 1.0 instead of dividing by "
                       "zero.")
            raise
        if not grid.same(got, 1.0) or not grid.same(grid(5, 0), 1.0):
            c.fail(f"warmup_steps=0 means no annealing: the weight must be 1 at every step, "
                   f"{compare(got, 1.0)}.")
    with c.step("weights the KL in the loss"):
        _check_loss_weight(c, fn, [(0, 10), (4, 10), (25, 10)], _linear_reference,
                           "linear_schedule")
    c.passed()


def _check_loss_weight(c: Checker, fn, points, reference, name: str) -> None:
    """The weight, as returned, multiplies a float32 KL in ``recon + beta * kl``: the loss is
    a float32 tensor and its gradient with respect to the KL is beta (KL annealing's loss)."""
    __tracebackhide__ = True
    with torch.enable_grad():
        for p in points:
            beta = c.call(fn, *p)
            kl = torch.tensor([2.0, 3.0, 5.0], requires_grad=True)
            recon = torch.tensor([100.0, 90.0, 80.0])
            try:
                loss = recon + beta * kl
            except Exception as err:                     # noqa: BLE001 (learner's type)
                c.fail(f"{name}{p} returns {type(beta).__name__}, which cannot weight the KL "
                       f"in the loss recon + beta * kl ({type(err).__name__}: {err}); return a "
                       "plain Python float.")
            if not isinstance(loss, torch.Tensor) or loss.shape != kl.shape \
                    or loss.dtype != torch.float32:
                c.fail(f"recon + beta * kl with beta = {name}{p} is "
                       f"{type(loss).__name__} {tuple(getattr(loss, 'shape', ()))} "
                       f"{getattr(loss, 'dtype', '')}, not a float32 tensor of shape (3,): "
                       "return a plain Python float.")
            (grad,) = torch.autograd.grad(loss.sum(), kl)
            if not close(grad, torch.full_like(grad, reference(*p))):
                c.fail(f"with beta = {name}{p} the gradient of the loss with respect to the "
                       f"KL is not beta ({compare(grad, torch.full_like(grad, reference(*p)))}).")


# ---------------------------------------------------------------------- cyclical schedule

# (cycle_steps, ratio): ramps of whole and fractional lengths, short and long cycles.
_CYCLES = ((8, 0.5), (10, 0.25), (10, 0.8), (7, 1.0), (3, 0.5), (16, 0.5), (1000, 0.5))
_MANY = 25                                                   # cycles in a row


def _cyclical_points():
    for cycle, ratio in _CYCLES:
        if cycle <= 16:
            steps = list(range(3 * cycle))                                # every step of 3 cycles
            steps += [k * cycle + o for k in range(3, _MANY) for o in (0, 1, cycle - 1)]
            steps += [10 ** 9 // cycle * cycle + k for k in range(cycle)]   # a long run
        else:
            steps = [k * cycle + o for k in (0, 1, 2, 7, 30, 10 ** 6)
                     for o in (0, 1, 250, 499, 500, 501, 999)]
        for s in steps:
            yield (s, cycle, ratio)


def _cyclical_mistakes(grid: _Grid):
    floor = {(c, r): grid.values[(0, c, r)] or 0.0 for c, r in _CYCLES}
    shorter = [(lambda s, c, r, k=k: min(1.0, (s % (c // k)) / (r * (c // k))),
                f"the schedule repeats every cycle_steps // {k} steps: cycle_steps is the "
                "length of one cycle (the notebook passes ceil(total_steps / 4)), not the "
                "number of training steps; use step % cycle_steps.") for k in range(2, 9)]
    return [
        (lambda s, c, r: min(1.0, s / (r * c)),
         "the schedule never restarts: use step % cycle_steps so that every cycle starts "
         "again at 0."),
        (lambda s, c, r: min(1.0, (s % c + 1) / (r * c)),
         "off by one: the weight is (step % cycle_steps + 1) / (ratio * cycle_steps); steps "
         "are counted from 0, so every cycle starts at exactly 0."),
        (lambda s, c, r: max(floor[(c, r)], _cyclical_reference(s, c, r)),
         f"the weight has a floor: it never goes below {floor[(8, 0.5)]:.6g} (cycle_steps=8), "
         "as with max(beta_min, ...); every cycle starts at exactly 0."),
        (lambda s, c, r: _cyclical_reference(s, c, 0.5),
         "ratio is ignored: the ramp must last ratio * cycle_steps steps."),
        (lambda s, c, r: (s % c) / c,
         "the ramp takes the whole cycle; it must reach 1 after ratio * cycle_steps steps: "
         "divide by ratio * cycle_steps."),
        (lambda s, c, r: min(1.0, (s % c) * r / c),
         "ratio multiplies the slope: the ramp lasts ratio * cycle_steps steps, so divide "
         "by ratio * cycle_steps."),
        (lambda s, c, r: (s % c) / (r * c),
         "the weight keeps growing past 1 inside a cycle: cap it with min(1.0, ...)."),
        (lambda s, c, r: min(1.0, (s % c) // (r * c)),
         "integer division: (step % cycle_steps) // (ratio * cycle_steps) is 0 during the "
         "whole ramp; use true division."),
        (lambda s, c, r: min(1.0, ((s + 1) % c) / (r * c)),
         "off by one: (step + 1) % cycle_steps starts every cycle above 0 (and ends it at 0); "
         "steps are counted from 0: step % cycle_steps."),
        (lambda s, c, r: min(1.0, (s % c) / int(r * c)),
         "the ramp length is cut to whole steps, int(ratio * cycle_steps): divide by "
         "ratio * cycle_steps itself (it need not be a whole number)."),
        (lambda s, c, r: (s % (r * c)) / (r * c),
         "the schedule restarts every ratio * cycle_steps steps (step % (ratio * "
         "cycle_steps)?), a sawtooth with no flat part: the cycle lasts cycle_steps, the ramp "
         "its first ratio * cycle_steps steps, then the weight stays at 1."),
        *shorter,
    ]


def _hard_coded(grid: _Grid, reference_points):
    """A hint if the weights follow another period than cycle_steps, or stop cycling."""
    __tracebackhide__ = True
    if all(grid.same(grid(s, cycle, 0.5), grid(s, 16, 0.5)) for cycle in (3, 8)
           for s in range(24)):
        return ("cycle_steps is ignored: the weights are the same for cycle_steps = 3, 8 and "
                "16 (a hard-coded period?); use step % cycle_steps.")
    for cycle, ratio in _CYCLES:
        pts = [p for p in reference_points if p[1:] == (cycle, ratio) and p[0] < _MANY * cycle]
        if not pts or grid.matches(lambda s, c, r: _cyclical_reference(s, c, r), pts):
            continue
        for period in range(1, 4 * cycle):
            if period != cycle and (
                    grid.matches(lambda s, c, r: min(1.0, (s % period) / (r * c)), pts)
                    or grid.matches(lambda s, c, r: _cyclical_reference(s, period, r), pts)):
                return (f"with cycle_steps={cycle} the schedule repeats every {period} steps: "
                        "the period is hard-coded (or computed from something else); use "
                        "step % cycle_steps.")
        first = next(p for p in pts if not grid.same(grid(*p), _cyclical_reference(*p)))
        s = first[0]
        if s >= 2 * cycle and grid(*first) > _cyclical_reference(*first) and all(
                grid.same(grid(*q), 1.0) for q in pts if q[0] >= s):
            return (f"the schedule stops cycling after {s // cycle} cycles and stays at 1 (a "
                    "hard-coded number of cycles?): every cycle of cycle_steps steps restarts "
                    "at 0, however long training runs.")
    return None


def check_cyclical_schedule(fn) -> None:
    """Check ``fn(step, cycle_steps, ratio=0.5) -> beta`` (Fu et al., 2019), a float.

    Within each cycle of ``cycle_steps`` optimiser steps (counted from 0), β rises linearly
    from 0 to 1 over the first ``ratio * cycle_steps`` steps, then stays at 1; the next
    cycle starts again at 0: ``min(1, (step % cycle_steps) / (ratio * cycle_steps))``.
    Checked for cycles of 3 to 1,000 steps, 25 cycles in a row and steps up to 10^9 (no
    hard-coded period or number of cycles); the value must be a plain Python float (or int),
    not a NumPy array or a tensor, and weight the KL in the loss with the right gradient. Prints
    ``cyclical schedule: 7/7 checks passed`` or raises ``AssertionError``.
    """
    c = Checker("cyclical schedule", "cyclical_schedule")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame
    points = list(_cyclical_points())
    with c.step("returns a number for every step, cycle length and ratio"):
        grid = _Grid(c, fn, "cyclical_schedule", points)
        grid.explain_error(_cyclical_mistakes(grid))
    mistakes = _cyclical_mistakes(grid)

    def wrong_or_diagnose(pts, otherwise):
        __tracebackhide__ = True
        wrong = grid.first_wrong(_cyclical_reference, pts)
        if wrong:
            (p, want) = wrong
            for mistake, hint in mistakes:
                if grid.matches(mistake):
                    c.fail(hint)
            hard = _hard_coded(grid, points)
            if hard:
                c.fail(hard)
            c.fail(otherwise(p, want))

    _weight_in_unit_interval(c, grid, mistakes, points, "cyclical_schedule",
                             "every cycle starts at 0 and only rises")
    with c.step("starts at 0"):
        wrong_or_diagnose([(0, cyc, r) for cyc, r in _CYCLES],
                          lambda p, want: f"at step 0 the weight must be 0: cyclical_schedule"
                                          f"{p} {compare(grid(*p), want)}.")
    with c.step("one cycle's shape"):
        wrong_or_diagnose([p for p in points if p[0] < p[1]],
                          lambda p, want: f"inside the first cycle cyclical_schedule{p} should "
                                          f"be {want:.6g}: {compare(grid(*p), want)}.")
    with c.step("restarts every cycle, however many"):
        wrong_or_diagnose(points, lambda p, want: f"cyclical_schedule{p} should be {want:.6g} "
                                                  f"(cycle {p[0] // p[1]}): "
                                                  f"{compare(grid(*p), want)}.")
    with c.step("default ratio 0.5"):
        try:
            got = _as_weight(c, c.call(fn, 3, 8), "cyclical_schedule(3, 8)")
        except AssertionError as err:
            if "TypeError" in str(err):
                c.fail("cyclical_schedule(step, cycle_steps) must work without a ratio: give it "
                       "the default ratio=0.5.")
            raise
        if not grid.same(got, 0.75):
            c.fail(f"the default ratio must be 0.5: cyclical_schedule(3, 8) "
                   f"{compare(got, 0.75)}.")
    with c.step("weights the KL in the loss"):
        _check_loss_weight(c, fn, [(0, 8, 0.5), (2, 8, 0.5), (13, 8, 0.5)],
                           _cyclical_reference, "cyclical_schedule")
    c.passed()

