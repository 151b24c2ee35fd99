"""Answer checkers for the exercises (``exercises/*.ipynb``).

One module per exercise, each with its ``check_*`` functions: ``beta_vae``
(:func:`check_beta_vae_loss`), ``conditional_vae`` (:func:`check_cvae`), ``kl_annealing``
(:func:`check_linear_schedule`, :func:`check_cyclical_schedule`), ``mse_vs_bce``
(:func:`check_gaussian_recon`, :func:`check_bernoulli_recon`); ``_harness`` holds what they
share (the :class:`Checker`, the tolerance policy below, the diagnosis of common mistakes).
Notebooks call them as ``from course_utils import checks; checks.check_cvae(CVAE)``.

Each ``check_*`` function takes the learner's function (or class), runs it on small inputs
whose right answer is known in closed form or from an independent reference
(``torch.distributions``, hand-computed values), and then either

* prints one line, e.g. ``β-VAE loss: 7/7 checks passed``, or
* raises ``AssertionError`` with a one-line hint naming the likely mistake (mean instead
  of sum, β on the wrong term, KL sign flipped, label ignored, schedule off by one...).

Each checker tests properties, not one listed answer: a loss or a model must pass autograd's
gradient to every input and weight that should get one, equal to the reference's (a value
computed through ``.item()``, ``.detach()`` or NumPy is right and trains nothing); a model
keeps the examples of a batch apart (changing one changes only its own row); a Bernoulli
term stays exact at logits of ±100 in float32, where ``exp`` overflows; a schedule is a
plain Python number for every length and step count. A hint names a mistake only when
that mistake reproduces the learner's answer (every weight of a schedule, the value of a
term), so that a floor is not called an off-by-one. ``tests/test_checker_answers.py`` holds
the learners' answers (``tests/checker_answers``) and the hint each must get.

A stub that still raises ``NotImplementedError`` gives an ``AssertionError`` that says
which function to implement. Every call of the learner's code also checks that it left its
tensor arguments unchanged (no in-place ``x -= mean`` on the caller's data).

Tolerance policy (every checker, every comparison of numbers)
-------------------------------------------------------------
The learner's answer and the reference are converted to float64 and compared element-wise:
``|answer - reference| <= rtol * (|reference| + 1)``, relative for large values and
absolute (``rtol`` in the answer's units) near zero. ``rtol`` depends only on the dtype of
the learner's answer: a thousand units in its last place (``1000 * eps``), at most half its
digits (``sqrt(eps)``), and never below 1e-6, because a float64 answer may carry float32
constants such as ``torch.tensor(math.pi)`` (``_harness.answer_rtol``):

=====================================  ========
answer dtype                           rtol
=====================================  ========
float64, Python ``float`` and ``int``  1e-6
float32                                1.2e-4
float16 / bfloat16                     3.1e-2 / 8.8e-2
=====================================  ========

The loss checkers feed float64 inputs, so a right float64 answer agrees to ~1e-15, a right
float32 one to ~1e-6, and every known mistake is off by far more than 1.2e-4 (the tests
hold a table of them). A failure message prints both numbers with as many significant
digits as it takes to tell them apart ("got 0.5005, expected 0.5", never "should be 0.4,
got 0.4"). The conditional VAE's sampling check is statistical; its bounds come from the
number of draws and are documented in ``conditional_vae``.
"""
import functools

from . import beta_vae as _beta_vae
from . import conditional_vae as _conditional_vae
from . import kl_annealing as _kl_annealing
from . import latent_size as _latent_size
from . import mse_vs_bce as _mse_vs_bce

__all__ = ["check_beta_vae_loss", "check_cvae", "check_linear_schedule",
           "check_cyclical_schedule", "check_gaussian_recon", "check_bernoulli_recon",
           "check_rate_distortion", "check_active_units", "require_passed"]

# Names of the checks whose last run in this kernel passed (see require_passed).
_PASSED: set[str] = set()


def _recorded(check):
    """``check``, noting in ``_PASSED`` whether its last run passed."""
    @functools.wraps(check)
    def run(*args, **kwargs):
        __tracebackhide__ = True
        _PASSED.discard(check.__name__)
        result = check(*args, **kwargs)
        _PASSED.add(check.__name__)
        return result
    return run


check_beta_vae_loss = _recorded(_beta_vae.check_beta_vae_loss)
check_cvae = _recorded(_conditional_vae.check_cvae)
check_linear_schedule = _recorded(_kl_annealing.check_linear_schedule)
check_cyclical_schedule = _recorded(_kl_annealing.check_cyclical_schedule)
check_gaussian_recon = _recorded(_mse_vs_bce.check_gaussian_recon)
check_bernoulli_recon = _recorded(_mse_vs_bce.check_bernoulli_recon)
check_rate_distortion = _recorded(_latent_size.check_rate_distortion)
check_active_units = _recorded(_latent_size.check_active_units)


def require_passed(*checks) -> None:
    """Stop a cell unless every given check passed the last time it ran in this kernel.

    ``checks``: the course's check functions, e.g.
    ``checks.require_passed(checks.check_rate_distortion, checks.check_active_units)``, put
    first in a cell that trains for a while before it uses the learner's answers: while an
    answer is unfinished or wrong, the cell stops at once with a hint instead of training
    for nothing (under ``make check`` and the grader every cell runs, and the training
    would still take its full time). Raises ``AssertionError`` naming the checks that have
    not passed; ``TypeError`` for anything that is not one of the course's checks.
    """
    __tracebackhide__ = True
    if not checks:
        raise TypeError("require_passed needs at least one check, e.g. "
                        "checks.require_passed(checks.check_rate_distortion)")
    ours = [globals()[name] for name in __all__ if name.startswith("check_")]
    for check in checks:
        if not any(check is c for c in ours):
            raise TypeError(f"require_passed takes the course's check functions "
                            f"(checks.{', checks.'.join(c.__name__ for c in ours)}), got {check!r}")
    missing = [check.__name__ for check in checks if check.__name__ not in _PASSED]
    if missing:
        raise AssertionError(
            f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} not passed in "
            "this kernel: fix your answer and run its check cell above first; this cell "
            "uses your answers, so it stops here instead of training for nothing.")
