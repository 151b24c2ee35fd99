"""course_utils.metrics: log-likelihood bounds, latent usage, codebook usage."""
import math

import pytest
import torch
from torch import nn

from course_utils import losses, metrics, models


class TinyVAE(nn.Module):
    """A small Bernoulli VAE with a 1-D latent, so that log p(x) can be computed exactly by
    quadrature: p(x) = integral of p(x|z) N(z; 0, 1) dz over a fine grid of z."""

    def __init__(self, pixels: int = 6, latent_dim: int = 1, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.latent_dim = latent_dim
        self.enc = nn.Linear(pixels, 2 * latent_dim)
        self.dec = nn.Sequential(nn.Linear(latent_dim, 16), nn.Tanh(), nn.Linear(16, pixels))
        with torch.no_grad():
            self.dec[2].weight.mul_(4.0)  # a sharp decoder: p(z|x) far from the prior

    def encode(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z):
        return self.dec(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z), mu, logvar


class PriorIsPosterior(nn.Module):
    """Decoder ignores z and q(z|x) = p(z) = N(0, I): q is the exact posterior, so every
    importance weight equals p(x) and -log p(x) = bernoulli_nll(bias, x) exactly."""

    def __init__(self, pixels: int = 5, latent_dim: int = 3):
        super().__init__()
        self.latent_dim = latent_dim
        self.bias = nn.Parameter(torch.linspace(-2.0, 2.0, pixels))

    def encode(self, x):
        zeros = torch.zeros(x.shape[0], self.latent_dim)
        return zeros, zeros

    def decode(self, z):
        return self.bias.expand(z.shape[0], -1)


def exact_nll_by_quadrature(model: TinyVAE, x: torch.Tensor) -> torch.Tensor:
    z = torch.linspace(-10.0, 10.0, 40001, dtype=torch.float64)[:, None]
    dz = float(z[1] - z[0])
    with torch.no_grad():
        logits = model.decode(z.float()).double()                        # (grid, pixels)
    log_px_z = -nn.functional.binary_cross_entropy_with_logits(
        logits[None].expand(x.shape[0], -1, -1), x.double()[:, None].expand(-1, len(z), -1),
        reduction="none").sum(-1)                                       # (batch, grid)
    log_pz = -0.5 * (z[:, 0] ** 2 + math.log(2 * math.pi))
    return -(torch.logsumexp(log_px_z + log_pz, dim=1) + math.log(dz))


@pytest.fixture
def tiny():
    model = TinyVAE()
    x = (torch.rand(8, 6, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    return model, x


# --- iwae_nll ---------------------------------------------------------------------------------

def test_iwae_nll_converges_to_the_exact_negative_log_likelihood(tiny):
    model, x = tiny
    exact = exact_nll_by_quadrature(model, x)
    torch.manual_seed(0)
    estimate = metrics.iwae_nll(model, x, k=20000, batch_size=8).double()
    assert estimate.shape == (8,)
    assert torch.allclose(estimate, exact, atol=0.02), (estimate, exact)


def test_iwae_nll_is_an_upper_bound_that_tightens_with_k(tiny):
    model, x = tiny
    exact = exact_nll_by_quadrature(model, x).mean()
    torch.manual_seed(0)
    repeats = x.repeat(200, 1)                                   # 200 independent estimates each
    means = {k: metrics.iwae_nll(model, repeats, k=k, batch_size=1600).mean() for k in (1, 5, 50)}
    assert means[1] > means[5] > means[50] > exact - 0.01  # 0.01: Monte-Carlo noise
    assert means[1] - exact > 0.05  # the toy posterior is far from q: the k=1 bound is loose


def test_iwae_nll_with_k1_has_the_mean_of_the_training_loss(tiny):
    model, x = tiny
    torch.manual_seed(0)
    repeats = x.repeat(2000, 1)                                  # (reps * batch, pixels)
    iw = metrics.iwae_nll(model, repeats, k=1, batch_size=4000).view(2000, -1)
    loss = losses.vae_loss(model, repeats)["loss"].detach().view(2000, -1)
    diff = iw.mean(0) - loss.mean(0)
    stderr = (iw.var(0) / 2000 + loss.var(0) / 2000).sqrt()
    assert (diff.abs() < 5 * stderr + 1e-4).all(), (diff, stderr)


def test_iwae_nll_is_exact_with_zero_variance_when_q_is_the_posterior():
    model = PriorIsPosterior()
    x = torch.tensor([[0.0, 1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0, 0.3]])
    exact = losses.bernoulli_nll(model.bias.detach().expand(2, -1), x)
    for k in (1, 7, 100):
        runs = torch.stack([metrics.iwae_nll(model, x, k=k) for _ in range(5)])
        assert torch.allclose(runs, exact.expand(5, -1), atol=1e-5)


def test_iwae_nll_does_not_depend_on_how_samples_are_chunked(tiny):
    model, x = tiny
    torch.manual_seed(3)
    whole = metrics.iwae_nll(model, x, k=30, batch_size=8, samples_per_pass=30)
    torch.manual_seed(3)
    chunked = metrics.iwae_nll(model, x, k=30, batch_size=8, samples_per_pass=7)
    # Different chunks draw the noise in a different order, so compare distributions' means
    # over repeats rather than single values.
    torch.manual_seed(4)
    repeats = x.repeat(300, 1)
    a = metrics.iwae_nll(model, repeats, k=30, samples_per_pass=30).view(300, -1)
    b = metrics.iwae_nll(model, repeats, k=30, samples_per_pass=7).view(300, -1)
    assert whole.shape == chunked.shape == (8,)
    stderr = (a.var(0) / 300 + b.var(0) / 300).sqrt()
    assert ((a.mean(0) - b.mean(0)).abs() < 5 * stderr + 1e-4).all()


def test_iwae_nll_restores_training_mode_and_keeps_no_graph(tiny):
    model, x = tiny
    model.train()
    out = metrics.iwae_nll(model, x, k=3)
    assert model.training and not out.requires_grad


def test_iwae_nll_works_on_the_course_mlp_vae_with_images():
    torch.manual_seed(0)
    model = models.MLPVAE(latent_dim=4, hidden_dim=16)
    x = torch.rand(5, 1, 28, 28)
    out = metrics.iwae_nll(model, x, k=10, batch_size=2, samples_per_pass=3)
    assert out.shape == (5,) and torch.isfinite(out).all() and (out > 0).all()


@pytest.mark.parametrize("k", [0, -1, 2.5])
def test_iwae_nll_rejects_a_bad_number_of_samples(tiny, k):
    model, x = tiny
    with pytest.raises(ValueError, match="k"):
        metrics.iwae_nll(model, x, k=k)


def test_iwae_nll_names_a_missing_encode_method(tiny):
    _, x = tiny
    with pytest.raises(TypeError, match="encode"):
        metrics.iwae_nll(nn.Linear(6, 6), x, k=2)


# --- elbo ------------------------------------------------------------------------------------

def test_elbo_is_below_the_exact_log_likelihood_and_matches_the_training_loss(tiny):
    model, x = tiny
    exact_log_px = -exact_nll_by_quadrature(model, x)
    torch.manual_seed(0)
    out = metrics.elbo(model, x, n_samples=20000)
    assert set(out) == {"elbo", "recon", "kl"} and out["elbo"].shape == (8,)
    assert torch.allclose(out["elbo"], -(out["recon"] + out["kl"]))
    assert (out["elbo"].double() <= exact_log_px + 1e-3).all()
    # E[vae_loss] = recon + KL: the many-sample ELBO is its expectation.
    loss = losses.vae_loss(model, x.repeat(4000, 1))["loss"].detach().view(4000, -1).mean(0)
    assert torch.allclose(-out["elbo"], loss, atol=0.05)


def test_elbo_kl_is_the_closed_form_gaussian_kl(tiny):
    model, x = tiny
    mu, logvar = model.encode(x)
    out = metrics.elbo(model, x)
    assert torch.allclose(out["kl"], losses.gaussian_kl(mu, logvar).detach(), atol=1e-6)


# --- encode_dataset, kl_per_dim, active_units ----------------------------------------------------

def test_encode_dataset_matches_encoding_in_one_batch():
    torch.manual_seed(0)
    model = models.MLPVAE(latent_dim=3, hidden_dim=8)
    x = torch.rand(10, 1, 28, 28)
    mu, logvar = metrics.encode_dataset(model, x, batch_size=3)
    ref_mu, ref_logvar = model.encode(x)
    assert mu.shape == logvar.shape == (10, 3) and not mu.requires_grad
    assert torch.allclose(mu, ref_mu, atol=1e-6) and torch.allclose(logvar, ref_logvar, atol=1e-6)


def test_kl_per_dim_sums_to_the_mean_gaussian_kl():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(50, 4, generator=g), torch.randn(50, 4, generator=g)
    per_dim = metrics.kl_per_dim(mu, logvar)
    assert per_dim.shape == (4,)
    assert torch.allclose(per_dim.sum(), losses.gaussian_kl(mu, logvar).mean(), atol=1e-5)


def test_kl_per_dim_is_zero_exactly_for_dimensions_equal_to_the_prior():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(20, 3, generator=g), torch.randn(20, 3, generator=g)
    mu[:, 1], logvar[:, 1] = 0.0, 0.0
    per_dim = metrics.kl_per_dim(mu, logvar)
    assert per_dim[1] == 0 and (per_dim[[0, 2]] > 0).all()


def test_active_units_counts_dimensions_whose_mean_varies_across_data():
    g = torch.Generator().manual_seed(0)
    mu = torch.zeros(1000, 5)
    mu[:, 0] = torch.randn(1000, generator=g)              # variance ~1: active
    mu[:, 2] = 0.3 * torch.randn(1000, generator=g)        # variance ~0.09: active
    mu[:, 3] = 0.05 * torch.randn(1000, generator=g)       # variance ~0.0025: inactive
    mu[:, 4] = 7.0                                         # constant, far from 0: inactive
    assert metrics.active_units(mu) == 2
    assert metrics.active_units(mu, threshold=0.001) == 3
    assert isinstance(metrics.active_units(mu), int)


def test_posterior_mean_variance_is_the_variance_over_examples():
    mu = torch.tensor([[0.0, 1.0], [2.0, 1.0]])
    assert torch.allclose(metrics.posterior_mean_variance(mu), torch.tensor([1.0, 0.0]))


def test_active_units_rejects_codes_that_are_not_a_matrix():
    with pytest.raises(ValueError, match="latent_dim"):
        metrics.active_units(torch.zeros(10))
    with pytest.raises(ValueError, match="2 examples"):
        metrics.active_units(torch.zeros(1, 4))


# --- codebook_usage ----------------------------------------------------------------------------

def test_codebook_usage_of_uniform_codes_is_full_with_perplexity_k():
    indices = torch.arange(8).repeat(5).reshape(5, 2, 4)
    used, perplexity = metrics.codebook_usage(indices, 8)
    assert used == 1.0 and perplexity == pytest.approx(8.0)


def test_codebook_usage_of_one_code_is_perplexity_one():
    used, perplexity = metrics.codebook_usage(torch.full((100,), 3), 16)
    assert used == 1 / 16 and perplexity == pytest.approx(1.0)


def test_codebook_usage_perplexity_is_exp_entropy_of_frequencies():
    indices = torch.tensor([0, 0, 0, 1, 2, 2])                 # p = 1/2, 1/6, 1/3; 2 unused of 5
    p = torch.tensor([0.5, 1 / 6, 1 / 3], dtype=torch.float64)
    used, perplexity = metrics.codebook_usage(indices, 5)
    assert used == pytest.approx(3 / 5)
    assert perplexity == pytest.approx(float(torch.exp(-(p * p.log()).sum())))


def test_codebook_usage_rejects_out_of_range_and_float_indices():
    with pytest.raises(ValueError, match="codebook_size"):
        metrics.codebook_usage(torch.tensor([0, 8]), 8)
    with pytest.raises(TypeError, match="integer"):
        metrics.codebook_usage(torch.tensor([0.0, 1.0]), 8)
    with pytest.raises(ValueError, match="empty"):
        metrics.codebook_usage(torch.tensor([], dtype=torch.long), 8)


def test_iwae_nll_and_elbo_run_in_full_precision_inside_autocast(tiny):
    """Bounds in bfloat16 would be off by nats; an enclosing autocast must not change them."""
    model, x = tiny
    torch.manual_seed(5)
    plain_iw, plain_elbo = metrics.iwae_nll(model, x, k=50), metrics.elbo(model, x, 5)["elbo"]
    torch.manual_seed(5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        auto_iw, auto_elbo = metrics.iwae_nll(model, x, k=50), metrics.elbo(model, x, 5)["elbo"]
    assert auto_iw.dtype == torch.float32 and torch.equal(auto_iw, plain_iw)
    assert torch.equal(auto_elbo, plain_elbo)


# --- bad input (issue 8) --------------------------------------------------------------------

def test_iwae_nll_and_elbo_reject_an_empty_x():
    model = TinyVAE()
    for fn in (lambda x: metrics.iwae_nll(model, x, k=4), lambda x: metrics.elbo(model, x)):
        with pytest.raises(ValueError, match=r"x is empty \(shape \(0, 6\)\)"):
            fn(torch.rand(0, 6))


@pytest.mark.parametrize("k", [math.inf, float("nan"), 2.5, 0, -1, True, "8"])
def test_iwae_nll_rejects_a_k_that_is_not_a_positive_integer(k):
    with pytest.raises(ValueError, match=r"k \(importance samples per example\) must be a "
                                         r"positive integer, got"):
        metrics.iwae_nll(TinyVAE(), torch.rand(3, 6).round(), k=k)


def test_elbo_rejects_an_infinite_n_samples():
    with pytest.raises(ValueError, match=r"n_samples must be a positive integer, got inf"):
        metrics.elbo(TinyVAE(), torch.rand(3, 6).round(), n_samples=math.inf)


def test_active_units_raises_on_a_nan_column_instead_of_counting_it_inactive():
    mu = torch.randn(50, 4)
    mu[7, 2] = float("nan")
    with pytest.raises(ValueError, match=r"NaN or infinite values in latent dimension\(s\) \[2\]"):
        metrics.active_units(mu)


def test_kl_per_dim_is_losses_gaussian_kl_per_dim_averaged_over_examples():
    torch.manual_seed(0)
    mu, logvar = torch.randn(30, 5), torch.randn(30, 5)
    assert torch.allclose(metrics.kl_per_dim(mu, logvar),
                          losses.gaussian_kl_per_dim(mu, logvar).mean(0))
