"""The latent-size exercise: its checkers accept right answers and reject known-wrong ones,
naming the mistake; its exercise notebook is generated from the solution and fails untouched.

The reference answers are the code of ``solutions/latent_size.ipynb``, read through the
exercise generator's parser (``tools/make_exercises.py``), as in ``tests/test_checks.py``.
One table, ``CASES``: checker × answer → ``PASS`` or the expected hint (a substring of the
one-line ``AssertionError``).
"""
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import checks, losses, metrics
from course_utils.checks import latent_size as ls

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises as mx  # noqa: E402

NAME = "latent_size"
SOLUTION, EXERCISE = ROOT / "solutions" / f"{NAME}.ipynb", ROOT / "exercises" / f"{NAME}.ipynb"


def solution():
    """The answers the solution defines, and the line each of its check cells recorded."""
    return mx.load_solution(SOLUTION)


NAMESPACE, RECORDED = solution()
rate_distortion = NAMESPACE["rate_distortion"]
count_active_units = NAMESPACE["count_active_units"]

PASS = None
CASES = []


def case(checker, name, answer, expect=PASS):
    CASES.append(pytest.param(checker, answer, expect, id=f"{checker}: {name}"))


def stub(*args, **kwargs):
    raise NotImplementedError("write the code")


# ---------------------------------------------------------------- rate and distortion

def _bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def _kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


def rd(z_of=lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn_like(mu), recon=_bce,
       kl=lambda mu, lv, z: _kl(mu, lv), reduce=lambda t: t.mean()):
    """A rate_distortion built from how z is drawn, the two terms and the batch reduction."""
    def answer(model, x):
        mu, logvar = model.encode(x)
        z = z_of(mu, logvar)
        return reduce(kl(mu, logvar, z)), reduce(recon(model.decode(z), x))
    return answer


def _distributions(model, x):
    mu, logvar = model.encode(x)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    z = q.rsample()
    p_x = torch.distributions.Bernoulli(logits=model.decode(z), validate_args=False)
    rate = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1)
    return rate.mean(), -p_x.log_prob(x).flatten(1).sum(1).mean()


def _forward_and_course_losses(model, x):
    logits, mu, logvar = model(x)                 # GaussianVAE.forward samples z itself
    return losses.gaussian_kl(mu, logvar).mean(), losses.bernoulli_nll(logits, x).mean()


def _python_floats(model, x):
    return tuple(v.item() for v in rate_distortion(model, x))


def _monte_carlo_kl(mu, logvar, z):
    log_q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(1)
    return log_q - torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)


def _numpy_numbers(model, x):
    rate, distortion = rate_distortion(model, x)
    return np.float64(rate.item()), np.float64(distortion.item())


def _float32(model, x):
    rate, distortion = rate_distortion(model, x)
    return rate.float(), distortion.float()


def _reparameterize_method(model, x):
    mu, logvar = model.encode(x)
    z = model.reparameterize(mu, logvar)
    return _kl(mu, logvar).mean(), _bce(model.decode(z), x).mean()


def _never_decodes(model, x):
    mu, logvar = model.encode(x)
    return _kl(mu, logvar).mean(), torch.tensor(100.0, dtype=torch.float64)


def _as_dict(model, x):
    rate, distortion = rate_distortion(model, x)
    return {"rate": rate, "distortion": distortion}


def _clamps_x_in_place(model, x):
    x.clamp_(0.01, 0.99)
    return rate_distortion(model, x)


R = "check_rate_distortion"
case(R, "reference (the solution)", rate_distortion)
case(R, "torch.distributions: rsample, kl_divergence, Bernoulli", _distributions)
case(R, "model(x) and the course's losses", _forward_and_course_losses)
case(R, "model.reparameterize", _reparameterize_method)
case(R, "softplus form of the cross-entropy", rd(
    recon=lambda l, x: (F.softplus(l) - x * l).sum(dim=(1, 2, 3))))
case(R, "float32 numbers", _float32)
# issue 19: a Monte-Carlo rate, numbers without gradients, a sigma shared by the batch
case(R, "Monte-Carlo KL at the sampled z", rd(kl=_monte_carlo_kl), "one-sample Monte-Carlo")
case(R, "Python floats (.item())", _python_floats, "rate carries no gradient")
case(R, "NumPy numbers", _numpy_numbers, "rate carries no gradient")
case(R, "one sigma for the batch", rd(
    z_of=lambda mu, lv: mu + torch.exp(0.5 * lv).mean() * torch.randn_like(mu)),
    "one sigma shared by the batch")
case(R, "z detached", rd(z_of=lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu))
                         .detach()), "no gradient reaches the encoder through the sampled z")
case(R, "log1p(exp(l)): inf in float32 at l = 100", rd(
    recon=lambda l, x: -(x * l - torch.log1p(torch.exp(l))).flatten(1).sum(1)),
    "distortion overflows for float32 logits")
case(R, "stub", stub, "implement `rate_distortion` first")
case(R, "z = mu (no sampling)", rd(z_of=lambda mu, lv: mu), "computed at z = mu")
case(R, "distortion: mean over pixels", rd(recon=lambda l, x: _bce(l, x) / 6),
     "distortion is the mean over pixels")
case(R, "both summed over the batch", rd(reduce=lambda t: t.sum()),
     "summed over the batch")
case(R, "rate summed over the batch", lambda m, x: (_kl(*m.encode(x)).sum(),
                                                    rate_distortion(m, x)[1]),
     "rate is summed over the batch")
case(R, "KL sign flipped", rd(kl=lambda mu, lv, z: -_kl(mu, lv)), "rate has the wrong sign")
case(R, "rate: mean over latent dimensions", rd(kl=lambda mu, lv, z: _kl(mu, lv) / 3),
     "rate is the mean over latent dimensions")
case(R, "KL without the 1/2", rd(kl=lambda mu, lv, z: 2 * _kl(mu, lv)), "factor 1/2")
case(R, "KL with logvar read as log sigma",
     rd(kl=lambda mu, lv, z: -0.5 * (1 + 2 * lv - mu**2 - lv.exp() ** 2).sum(1)),
     "treats logvar as log(sigma)")
case(R, "z scaled by the variance",
     rd(z_of=lambda mu, lv: mu + lv.exp() * torch.randn_like(mu)), "exp(logvar), the variance")
case(R, "z scaled by logvar", rd(z_of=lambda mu, lv: mu + lv * torch.randn_like(mu)),
     "uses logvar as the scale")
case(R, "sigma forgotten", rd(z_of=lambda mu, lv: mu + torch.randn_like(mu)), "forgets sigma")
case(R, "one eps shared by every image",
     rd(z_of=lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape[1],
                                                                     dtype=mu.dtype)),
     "same noise")
case(R, "sigmoid applied twice", rd(recon=lambda l, x: _bce(torch.sigmoid(l), x)),
     "sigmoid twice")
case(R, "x and 1 - x swapped", rd(recon=lambda l, x: _bce(l, 1 - x)), "swaps x and 1 - x")
case(R, "squared error instead of the cross-entropy",
     rd(recon=lambda l, x: ((torch.sigmoid(l) - x) ** 2).flatten(1).sum(1)), "squared error")
case(R, "distortion sign flipped", rd(recon=lambda l, x: -_bce(l, x)),
     "distortion has the wrong sign")
case(R, "per-image tensors, not averaged", rd(reduce=lambda t: t), "average over the images")
case(R, "a dict instead of a tuple", _as_dict, "returns a dict")
case(R, "never decodes", _never_decodes, "never called model.decode")
case(R, "changes x in place", _clamps_x_in_place, "in place")
case(R, "NaN distortion", rd(recon=lambda l, x: _bce(l, x) * float("nan")), "finite number")

# ---------------------------------------------------------------- active units


def _numpy_count(mu, threshold=0.01):
    return np.count_nonzero(np.var(mu.numpy(), axis=0) > threshold)


def _explicit_formula(mu, threshold=0.01):
    return int(((mu - mu.mean(dim=0)) ** 2).mean(dim=0).gt(threshold).sum())


def _course_metric(mu, threshold=0.01):
    return metrics.active_units(mu, threshold)


A = "check_active_units"
case(A, "reference (the solution)", count_active_units)
case(A, "NumPy, population variance", _numpy_count)
case(A, "explicit formula, int() of the sum", _explicit_formula)
case(A, "a 0-dim tensor, not an int", lambda mu, threshold=0.01: ((mu - mu.mean(dim=0)) ** 2)
     .mean(dim=0).gt(threshold).sum(), "0-d tensor")
case(A, "torch.var(correction=0)",
     lambda mu, threshold=0.01: int((torch.var(mu, dim=0, correction=0) > threshold).sum()))
case(A, "the course's metric", _course_metric)
case(A, "stub", stub, "implement `count_active_units` first")
case(A, "unbiased variance (torch's default)",
     lambda mu, threshold=0.01: int((mu.var(dim=0) > threshold).sum()), "unbiased variance")
case(A, "standard deviation",
     lambda mu, threshold=0.01: int((mu.std(dim=0, unbiased=False) > threshold).sum()),
     "standard deviation")
case(A, "variance over the wrong axis",
     lambda mu, threshold=0.01: int((mu.var(dim=1, unbiased=False) > threshold).sum()),
     "wrong axis")
case(A, "mean of mu squared",
     lambda mu, threshold=0.01: int((mu.pow(2).mean(0) > threshold).sum()), "mean of mu^2")
case(A, "threshold ignored",
     lambda mu, threshold=0.01: int((mu.var(0, unbiased=False) > 0.01).sum()),
     "ignores its threshold")
case(A, ">= instead of >",
     lambda mu, threshold=0.01: int((mu.var(0, unbiased=False) >= threshold).sum()),
     "strictly above")
case(A, "the mask, not the count",
     lambda mu, threshold=0.01: mu.var(0, unbiased=False) > threshold, "return the count")
case(A, "the fraction of active units",
     lambda mu, threshold=0.01: float((mu.var(0, unbiased=False) > threshold).float().mean()),
     "whole number")
case(A, "variance per mini-batch of 64, averaged",
     lambda mu, threshold=0.01: int((torch.stack([b.var(0, unbiased=False) for b in mu.split(64)])
                                     .mean(0) > threshold).sum()), "within mini-batches")
case(A, "no default threshold",
     lambda mu, threshold: int((mu.var(0, unbiased=False) > threshold).sum()),
     "default threshold=0.01")


@pytest.mark.parametrize("checker, answer, expect", CASES)
def test_checker_verdict(checker, answer, expect, capsys):
    check = getattr(checks, checker)
    if expect is PASS:
        check(answer)
        printed = capsys.readouterr().out
        assert printed == RECORDED[checker], "an accepted answer prints the solution's line"
    else:
        with pytest.raises(AssertionError) as err:
            check(answer)
        message = str(err.value)
        assert expect in message, message
        assert "\n" not in message.strip(), "one-line hint"


def test_the_table_covers_both_checkers_with_right_and_at_least_six_wrong_answers():
    verdicts = {}
    for param in CASES:
        checker, _, expect = param.values
        verdicts.setdefault(checker, []).append(expect is PASS)
    assert sorted(verdicts) == sorted(ls.__all__) == sorted(RECORDED)
    assert all(v.count(True) >= 4 and v.count(False) >= 6 for v in verdicts.values())
    assert set(ls.__all__) <= set(checks.__all__)
    # the notebooks' checks.check_* are these, recorded for checks.require_passed
    assert all(getattr(checks, name).__wrapped__ is getattr(ls, name) for name in ls.__all__)


def test_active_unit_cases_tell_every_listed_mistake_from_the_right_count():
    """Every known mistake gives a wrong count on at least one case, so none passes."""
    for mistake, hint in ls._MISTAKES:
        assert any(mistake(mu, t) != ls._count(ls._variance(mu), t)
                   for _, mu, t in ls._CASES), hint


def test_the_strict_threshold_case_is_exact_in_floating_point():
    (_, mu, threshold), = [c for c in ls._CASES if c[0] == "strictly above the threshold"]
    assert float(ls._variance(mu)[0]) == threshold == 2.0 ** -6


def test_stub_model_makes_sigma_variance_and_logvar_distinguishable():
    model = ls._LinearVAE()
    x = torch.rand(ls._BATCH, *ls._SHAPE, generator=torch.Generator().manual_seed(1),
                   dtype=torch.float64)
    _, logvar = model.encode(x)
    sigma = torch.exp(0.5 * logvar)
    assert bool((sigma < 0.75).all()) and bool((sigma > 0.25).all())
    assert bool(((sigma - sigma ** 2).abs() > 0.18).all())     # sigma vs the variance
    assert bool(((sigma - logvar.abs()).abs() > 0.1).all())    # sigma vs |logvar|
    # sigma spreads within every latent dimension, so that one sigma shared by the batch
    # (or per dimension) makes eps too wide where sigma is small and too narrow where large
    spread = sigma.quantile(0.9, dim=0) - sigma.quantile(0.1, dim=0)
    assert bool((spread > 0.25).all()), spread


def test_a_right_rate_distortion_passes_whatever_the_callers_seed(capsys):
    for seed in (0, 1, 123):
        torch.manual_seed(seed)
        checks.check_rate_distortion(rate_distortion)
    assert capsys.readouterr().out == RECORDED[R] * 3


def test_the_checker_leaves_the_callers_random_state_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    checks.check_rate_distortion(rate_distortion)
    assert torch.equal(torch.rand(3), expected)


def test_recorded_lines_are_the_checkers_lines():
    assert RECORDED == {R: "rate and distortion: 7/7 checks passed\n",
                        A: "active units: 8/8 checks passed\n"}


# ---------------------------------------------------------------- the exercise notebook

STUB = re.compile(r'^[ \t]*# YOUR CODE HERE\n\s*raise NotImplementedError\(.*\)$', re.M)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_exercise_is_the_generated_one(tmp_path):
    solution_dir = tmp_path / "solutions"
    solution_dir.mkdir()
    (solution_dir / SOLUTION.name).write_text(SOLUTION.read_text(encoding="utf-8"))
    assert mx.generate(solution_dir, tmp_path / "exercises") == 0
    assert (tmp_path / "exercises" / EXERCISE.name).read_text(encoding="utf-8") == \
        EXERCISE.read_text(encoding="utf-8"), "run python tools/make_exercises.py"


def test_the_solution_stores_only_its_check_lines():
    assert mx.solution_problems(nbformat.read(SOLUTION, as_version=4), NAME) == []


def test_the_completed_exercise_is_the_solution_without_its_markers():
    exercise, sol = nbformat.read(EXERCISE, as_version=4), nbformat.read(SOLUTION, as_version=4)
    blocks = [b for c in _code(sol) for b in mx.solution_blocks(c.source)]
    assert len(blocks) == 2
    for cell in _code(exercise):
        cell.source = STUB.sub(lambda m: blocks.pop(0), cell.source)
    assert blocks == []
    expected = [mx.without_markers(c.source) for c in _code(sol)
                if mx.SOLUTION_ONLY not in c.get("metadata", {}).get("tags", [])]
    assert [c.source for c in _code(exercise)] == expected


def test_the_exercise_hides_the_solution_code():
    text = "\n".join(c.source for c in nbformat.read(EXERCISE, as_version=4).cells)
    for block in (b for c in _code(nbformat.read(SOLUTION, as_version=4))
                  for b in mx.solution_blocks(c.source)):
        for line in block.split("\n"):
            if len(line.strip()) > 25:
                assert line.strip() not in text, line
