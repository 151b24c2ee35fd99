"""course_utils.metrics, posterior-collapse section: the aggregate posterior q(z), the mutual
information I_q(x; z) and the split E_x KL(q(z|x)||p(z)) = I_q(x; z) + KL(q(z)||p(z)).

The reference is a linear-Gaussian encoder where both parts are known in closed form:
x ~ N(0, s^2) per dimension and q(z|x) = N(a x, v), so q(z) = N(0, c) with c = a^2 s^2 + v,
I(x; z) = 1/2 log(c / v) and KL(q(z)||N(0, 1)) = 1/2 (c - 1 - log c), per dimension.
"""
import math

import pytest
import torch

from course_utils import losses, metrics


def linear_gaussian_codes(n, dim, a, s, v, seed=0):
    """``(mu, logvar)`` of q(z|x) = N(a x, v) for n draws x ~ N(0, s^2 I_dim), float64."""
    gen = torch.Generator().manual_seed(seed)
    x = s * torch.randn(n, dim, generator=gen, dtype=torch.float64)
    return a * x, torch.full((n, dim), math.log(v), dtype=torch.float64)


def closed_form(dim, a, s, v):
    c = a * a * s * s + v
    return dim * 0.5 * math.log(c / v), dim * 0.5 * (c - 1 - math.log(c))


def within_tolerance(result, dim, a, s, v, n):
    """The estimate agrees with the closed form within 4 standard errors plus 2 / sqrt(n) nats
    for the small bias of a log of an average (it shrinks with the number of examples n)."""
    mi, marginal = closed_form(dim, a, s, v)
    tol = 4 * result["mi_stderr"] + 2 / math.sqrt(n)
    return (abs(result["mutual_information"] - mi) <= tol
            and abs(result["marginal_kl"] - marginal) <= tol)


CASES = [(1, 1.0, 1.0, 0.5), (2, 0.8, 1.5, 0.2), (3, 0.3, 1.0, 1.0), (2, 2.0, 0.5, 0.05)]


@pytest.mark.parametrize("dim, a, s, v", CASES)
def test_kl_decomposition_matches_the_linear_gaussian_closed_form(dim, a, s, v):
    n = 2000
    mu, logvar = linear_gaussian_codes(n, dim, a, s, v)
    result = metrics.kl_decomposition(mu, logvar, generator=torch.Generator().manual_seed(1))
    mi, marginal = closed_form(dim, a, s, v)
    assert within_tolerance(result, dim, a, s, v, n), (result, mi, marginal)


def test_closed_form_check_rejects_an_estimator_that_forgets_the_log_n(monkeypatch):
    # log q(z) = logsumexp_j log q(z|x_j) - log N; without "- log N" it is no density of a
    # mixture, and the tolerance check above must catch it.
    dim, a, s, v, n = 2, 0.8, 1.5, 0.2, 2000
    mu, logvar = linear_gaussian_codes(n, dim, a, s, v)
    right = metrics.log_aggregate_posterior
    monkeypatch.setattr(metrics, "log_aggregate_posterior",
                        lambda z, m, lv, chunk_size=1024: right(z, m, lv, chunk_size) + math.log(n))
    wrong = metrics.kl_decomposition(mu, logvar, generator=torch.Generator().manual_seed(1))
    assert not within_tolerance(wrong, dim, a, s, v, n)


def test_closed_form_check_rejects_an_estimator_that_scores_the_mean_instead_of_a_sample(
        monkeypatch):
    dim, a, s, v, n = 2, 0.8, 1.5, 0.2, 2000
    mu, logvar = linear_gaussian_codes(n, dim, a, s, v)
    right = metrics.log_aggregate_posterior
    # q(z) evaluated at mu_i instead of at z_i ~ q(z|x_i)
    monkeypatch.setattr(metrics, "log_aggregate_posterior",
                        lambda z, m, lv, chunk_size=1024: right(m, m, lv, chunk_size))
    wrong = metrics.kl_decomposition(mu, logvar, generator=torch.Generator().manual_seed(1))
    assert not within_tolerance(wrong, dim, a, s, v, n)


def test_kl_decomposition_parts_add_up_to_the_average_gaussian_kl():
    gen = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(300, 5, generator=gen), torch.randn(300, 5, generator=gen) - 1
    result = metrics.kl_decomposition(mu, logvar, generator=gen)
    kl = losses.gaussian_kl(mu, logvar).mean().item()
    assert result["kl"] == pytest.approx(kl, rel=1e-5)
    assert result["kl"] == pytest.approx(metrics.kl_per_dim(mu, logvar).sum().item(), rel=1e-5)
    assert result["mutual_information"] + result["marginal_kl"] == pytest.approx(result["kl"])
    assert result["log_n"] == pytest.approx(math.log(300))


def test_mutual_information_is_near_zero_when_every_posterior_is_the_prior():
    mu, logvar = torch.zeros(1500, 4), torch.zeros(1500, 4)
    result = metrics.kl_decomposition(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert result["kl"] == 0.0
    assert abs(result["mutual_information"]) <= 4 * result["mi_stderr"] + 1e-9
    assert abs(result["marginal_kl"]) <= 4 * result["mi_stderr"] + 1e-9


def test_mutual_information_saturates_at_log_n_for_sharp_separate_posteriors():
    # Posteriors far apart and narrow: each z_i is explained by its own x_i only, so the
    # estimate reaches its ceiling log N although the true information would be larger.
    n = 500
    mu = 100.0 * torch.arange(n, dtype=torch.float64)[:, None]
    logvar = torch.full((n, 1), -4.0, dtype=torch.float64)
    result = metrics.kl_decomposition(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert result["kl"] > math.log(n) + 5
    assert abs(result["mutual_information"] - math.log(n)) <= 4 * result["mi_stderr"]


def test_log_aggregate_posterior_matches_a_torch_distributions_mixture():
    gen = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 3, generator=gen), torch.randn(7, 3, generator=gen)
    z = torch.randn(11, 3, generator=gen)
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=torch.zeros(7, dtype=torch.float64)),
        torch.distributions.Independent(
            torch.distributions.Normal(mu.double(), torch.exp(0.5 * logvar.double())), 1))
    ours = metrics.log_aggregate_posterior(z, mu, logvar)
    assert ours.shape == (11,) and ours.dtype == torch.float64
    assert torch.allclose(ours, mixture.log_prob(z.double()), atol=1e-9)


def test_log_aggregate_posterior_does_not_depend_on_the_chunk_size():
    gen = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(50, 4, generator=gen), torch.randn(50, 4, generator=gen)
    z = torch.randn(37, 4, generator=gen)
    whole = metrics.log_aggregate_posterior(z, mu, logvar, chunk_size=1000)
    assert torch.allclose(metrics.log_aggregate_posterior(z, mu, logvar, chunk_size=5), whole)


def test_collapse_metrics_reject_bad_input():
    mu = torch.zeros(10, 3)
    with pytest.raises(ValueError, match="at least 2 examples"):
        metrics.kl_decomposition(mu[:1], mu[:1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        metrics.kl_decomposition(torch.full((10, 3), math.nan), mu)
    with pytest.raises(ValueError, match="same shape"):
        metrics.kl_decomposition(mu, torch.zeros(10, 2))
    with pytest.raises(ValueError, match="z must be"):
        metrics.log_aggregate_posterior(torch.zeros(4, 2), mu, mu)
    with pytest.raises(ValueError, match="chunk_size"):
        metrics.log_aggregate_posterior(torch.zeros(4, 3), mu, mu, chunk_size=0)


@pytest.mark.parametrize("logvar_value", [-40.0, -25.0, -12.0])
def test_log_aggregate_posterior_is_exact_for_tiny_variances(logvar_value):
    """At logvar = -40 the expanded square z^2 - 2 z mu + mu^2 loses everything to rounding
    (1 / var = 2e17): the old formula was off by about 2,000 nats. The mixture's own log_prob,
    computed term by term in float64, is the reference."""
    gen = torch.Generator().manual_seed(0)
    mu = 3 * torch.randn(40, 3, generator=gen, dtype=torch.float64)
    logvar = torch.full((40, 3), logvar_value, dtype=torch.float64)
    logvar[::4] += 3.0  # mixed widths
    z = mu + torch.exp(0.5 * logvar) * torch.randn(40, 3, generator=gen, dtype=torch.float64)
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=torch.zeros(40, dtype=torch.float64)),
        torch.distributions.Independent(torch.distributions.Normal(mu, torch.exp(0.5 * logvar)),
                                        1))
    ours = metrics.log_aggregate_posterior(z, mu, logvar)
    assert torch.allclose(ours, mixture.log_prob(z), rtol=0, atol=1e-6)


def test_kl_decomposition_with_tiny_variances_keeps_information_at_log_n():
    """Standard deviations of 2e-9 around means about 1 apart: every x is identified by its z,
    so the information is log N (its ceiling) up to the Monte-Carlo error of E log q(z|x),
    not thousands of nats of rounding error."""
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    logvar = torch.full((64, 2), -40.0, dtype=torch.float64)
    result = metrics.kl_decomposition(mu, logvar, generator=gen)
    assert abs(result["mutual_information"] - math.log(64)) < 4 * result["mi_stderr"] < 0.5
