"""course_utils.losses: per-example loss terms in nats, checked against torch.distributions."""
import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from course_utils import losses, models

# Rows of (mu, logvar) per latent dimension, including extreme log-variances.
MU = torch.tensor([[0.0, 0.0, 0.0], [1.5, -2.0, 0.3], [0.0, 3.0, -1.0], [0.7, -0.2, 5.0]],
                  dtype=torch.float64)
LOGVAR = torch.tensor([[0.0, 0.0, 0.0], [-1.0, 0.5, 2.0], [-20.0, 10.0, 0.0],
                       [10.0, -20.0, -5.0]], dtype=torch.float64)


def _reference_kl(mu, logvar):
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_divergence(q, p).sum(dim=1)


# --- gaussian_kl ----------------------------------------------------------------------------

def test_gaussian_kl_matches_torch_distributions_in_float64():
    kl = losses.gaussian_kl(MU, LOGVAR)
    assert kl.dtype == torch.float64
    torch.testing.assert_close(kl, _reference_kl(MU, LOGVAR), rtol=1e-12, atol=1e-12)


def test_gaussian_kl_is_finite_and_correct_at_extreme_logvar_in_float32():
    kl = losses.gaussian_kl(MU.float(), LOGVAR.float())
    assert torch.isfinite(kl).all()
    torch.testing.assert_close(kl.double(), _reference_kl(MU, LOGVAR), rtol=1e-5, atol=1e-5)


def test_gaussian_kl_matches_a_monte_carlo_estimate():
    """E_q[log q(z) - log p(z)], n draws per row, agrees within 4 standard errors."""
    n = 200_000
    gen = torch.Generator().manual_seed(0)
    q = Normal(MU, torch.exp(0.5 * LOGVAR))
    p = Normal(torch.zeros_like(MU), torch.ones_like(MU))
    eps = torch.randn((n, *MU.shape), generator=gen, dtype=torch.float64)
    z = MU + torch.exp(0.5 * LOGVAR) * eps
    log_ratio = (q.log_prob(z) - p.log_prob(z)).sum(dim=-1)  # (n, batch)
    estimate = log_ratio.mean(dim=0)
    stderr = log_ratio.std(dim=0) / math.sqrt(n)
    kl = losses.gaussian_kl(MU, LOGVAR)
    assert ((kl - estimate).abs() <= 4 * stderr + 1e-9).all(), (kl, estimate, stderr)


def test_gaussian_kl_has_one_value_per_example():
    mu, logvar = torch.randn(7, 5), torch.randn(7, 5)
    assert losses.gaussian_kl(mu, logvar).shape == (7,)


def test_gaussian_kl_sums_over_latent_dimensions():
    mu, logvar = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    per_dim = torch.stack([losses.gaussian_kl(mu[:, j:j + 1], logvar[:, j:j + 1])
                           for j in range(6)], dim=1)
    torch.testing.assert_close(losses.gaussian_kl(mu, logvar), per_dim.sum(dim=1))


def test_gaussian_kl_is_zero_for_the_prior_itself():
    kl = losses.gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4))
    assert torch.equal(kl, torch.zeros(3))


def test_gaussian_kl_is_never_negative():
    gen = torch.Generator().manual_seed(1)
    mu = torch.randn(10_000, 4, generator=gen) * torch.tensor([0.0, 1e-4, 1.0, 10.0])
    logvar = torch.randn(10_000, 4, generator=gen) * torch.tensor([1e-5, 1e-3, 1.0, 8.0])
    assert (losses.gaussian_kl(mu, logvar) >= 0).all()


def test_gaussian_kl_gradients_match_the_closed_form():
    mu = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    losses.gaussian_kl(mu, logvar).sum().backward()
    torch.testing.assert_close(mu.grad, mu.detach())
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1))


def test_gaussian_kl_computes_half_precision_inputs_in_float32():
    mu, logvar = torch.randn(2, 3), torch.randn(2, 3)
    kl = losses.gaussian_kl(mu.bfloat16(), logvar.bfloat16())
    assert kl.dtype == torch.float32
    torch.testing.assert_close(kl, losses.gaussian_kl(mu.bfloat16().float(),
                                                      logvar.bfloat16().float()))


def test_gaussian_kl_rejects_mismatched_shapes_naming_them():
    with pytest.raises(ValueError, match=r"mu has shape \(2, 3\) but logvar has shape \(2, 4\)"):
        losses.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4))


def test_gaussian_kl_rejects_a_scalar_without_batch_dimension():
    with pytest.raises(ValueError, match="batch dimension"):
        losses.gaussian_kl(torch.tensor(0.0), torch.tensor(0.0))


# --- bernoulli_nll --------------------------------------------------------------------------

def test_bernoulli_nll_matches_torch_bernoulli_log_prob_on_binary_data():
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(5, 12, generator=gen, dtype=torch.float64) * 3
    x = torch.randint(0, 2, (5, 12), generator=gen).double()
    expected = -Bernoulli(logits=logits).log_prob(x).sum(dim=1)
    torch.testing.assert_close(losses.bernoulli_nll(logits, x), expected)


def test_bernoulli_nll_on_grey_levels_is_the_summed_cross_entropy():
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(4, 10, generator=gen, dtype=torch.float64)
    x = torch.rand(4, 10, generator=gen, dtype=torch.float64)
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum(dim=1)
    torch.testing.assert_close(losses.bernoulli_nll(logits, x), expected)


def test_bernoulli_nll_is_finite_and_exact_at_logits_plus_minus_100():
    logits = torch.tensor([[100.0, -100.0], [100.0, -100.0], [-100.0, 100.0]])
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    nll = losses.bernoulli_nll(logits, x)
    assert torch.isfinite(nll).all()
    torch.testing.assert_close(nll, torch.tensor([0.0, 200.0, 200.0]), atol=1e-6, rtol=1e-6)
    expected = -Bernoulli(logits=logits.double()).log_prob(x.double()).sum(dim=1)
    torch.testing.assert_close(nll.double(), expected, atol=1e-6, rtol=1e-6)


def test_bernoulli_nll_sums_4d_images_to_one_value_per_image():
    gen = torch.Generator().manual_seed(4)
    logits = torch.randn(3, 1, 28, 28, generator=gen)
    x = torch.rand(3, 1, 28, 28, generator=gen).round()
    nll = losses.bernoulli_nll(logits, x)
    assert nll.shape == (3,)
    expected = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(dim=1)
    torch.testing.assert_close(nll, expected, rtol=1e-5, atol=1e-4)


def test_bernoulli_nll_accepts_integer_targets():
    logits = torch.zeros(2, 3)
    nll = losses.bernoulli_nll(logits, torch.ones(2, 3, dtype=torch.uint8))
    torch.testing.assert_close(nll, torch.full((2,), 3 * math.log(2)))


def test_bernoulli_nll_rejects_mismatched_shapes_naming_them():
    with pytest.raises(ValueError, match=r"logits has shape \(2, 784\) but x has shape "
                                         r"\(2, 1, 28, 28\)"):
        losses.bernoulli_nll(torch.zeros(2, 784), torch.zeros(2, 1, 28, 28))


# --- gaussian_nll ---------------------------------------------------------------------------

def _reference_gaussian_nll(mean, x, log_sigma):
    sigma = torch.exp(torch.as_tensor(log_sigma, dtype=mean.dtype)).expand_as(mean)
    return -Normal(mean, sigma).log_prob(x).flatten(1).sum(dim=1)


@pytest.mark.parametrize("log_sigma", [0.0, -2.3, 1.7])
def test_gaussian_nll_matches_torch_normal_with_a_float_log_sigma(log_sigma):
    gen = torch.Generator().manual_seed(5)
    mean = torch.randn(4, 1, 5, 5, generator=gen, dtype=torch.float64)
    x = torch.rand(4, 1, 5, 5, generator=gen, dtype=torch.float64)
    nll = losses.gaussian_nll(mean, x, log_sigma)
    assert nll.shape == (4,)
    torch.testing.assert_close(nll, _reference_gaussian_nll(mean, x, log_sigma))


@pytest.mark.parametrize("shape", [(), (1, 1, 5, 5), (4, 1, 1, 1)],
                         ids=["learned-scalar", "per-pixel", "per-example"])
def test_gaussian_nll_matches_torch_normal_with_a_tensor_log_sigma(shape):
    gen = torch.Generator().manual_seed(6)
    mean = torch.randn(4, 1, 5, 5, generator=gen, dtype=torch.float64)
    x = torch.rand(4, 1, 5, 5, generator=gen, dtype=torch.float64)
    log_sigma = torch.randn(shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(losses.gaussian_nll(mean, x, log_sigma),
                               _reference_gaussian_nll(mean, x, log_sigma))


def test_gaussian_nll_includes_the_normalising_constant():
    nll = losses.gaussian_nll(torch.zeros(2, 10), torch.zeros(2, 10), 0.0)
    torch.testing.assert_close(nll, torch.full((2,), 5 * math.log(2 * math.pi)))


def test_gaussian_nll_passes_gradients_to_a_learned_log_sigma():
    log_sigma = torch.tensor(0.0, requires_grad=True)
    mean, x = torch.zeros(3, 4), torch.full((3, 4), 2.0)
    losses.gaussian_nll(mean, x, log_sigma).sum().backward()
    # d/d log_sigma of sum(0.5 (x - mean)^2 e^{-2 log_sigma} + log_sigma) = 12 * (1 - 4)
    torch.testing.assert_close(log_sigma.grad, torch.tensor(-36.0))


def test_gaussian_nll_rejects_mismatched_shapes_naming_them():
    with pytest.raises(ValueError, match=r"mean has shape \(3, 4\) but x has shape \(4, 3\)"):
        losses.gaussian_nll(torch.zeros(3, 4), torch.zeros(4, 3), 0.0)


# --- negative_elbo, vae_loss, autoencoder_loss ----------------------------------------------

def test_negative_elbo_is_reconstruction_plus_beta_times_kl():
    recon, kl = torch.tensor([10.0, 20.0]), torch.tensor([1.0, 3.0])
    torch.testing.assert_close(losses.negative_elbo(recon, kl), torch.tensor([11.0, 23.0]))
    torch.testing.assert_close(losses.negative_elbo(recon, kl, beta=4.0),
                               torch.tensor([14.0, 32.0]))
    torch.testing.assert_close(losses.negative_elbo(recon, kl, beta=0.0), recon)


def test_negative_elbo_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"recon_nll has shape \(4,\) but kl has shape \(4, 2\)"):
        losses.negative_elbo(torch.zeros(4), torch.zeros(4, 2))


class _FixedVAE(torch.nn.Module):
    """Returns given (logits, mu, logvar) whatever the input: values can be checked by hand."""

    def __init__(self, logits, mu, logvar):
        super().__init__()
        self.out = (logits, mu, logvar)

    def forward(self, x):
        return self.out


def test_vae_loss_returns_loss_recon_and_kl_per_example():
    gen = torch.Generator().manual_seed(7)
    x = torch.rand(3, 1, 28, 28, generator=gen)
    logits = torch.randn(3, 1, 28, 28, generator=gen)
    mu, logvar = torch.randn(3, 2, generator=gen), torch.randn(3, 2, generator=gen)
    terms = losses.vae_loss(_FixedVAE(logits, mu, logvar), x, beta=2.5)
    assert set(terms) == {"loss", "recon", "kl"}
    for v in terms.values():
        assert v.shape == (3,)
    torch.testing.assert_close(terms["recon"], losses.bernoulli_nll(logits, x))
    torch.testing.assert_close(terms["kl"], losses.gaussian_kl(mu, logvar))
    torch.testing.assert_close(terms["loss"], terms["recon"] + 2.5 * terms["kl"])


def test_vae_loss_runs_on_the_course_mlp_vae_with_a_gradient():
    torch.manual_seed(0)
    model = models.MLPVAE(latent_dim=4, hidden_dim=16)
    x = torch.rand(5, 1, 28, 28)
    terms = losses.vae_loss(model, x, torch.zeros(5, dtype=torch.long))
    assert terms["loss"].shape == (5,)
    assert (terms["kl"] >= 0).all() and (terms["recon"] > 0).all()
    terms["loss"].mean().backward()
    assert model.to_logvar.weight.grad is not None


def test_autoencoder_loss_is_the_bernoulli_nll_of_the_reconstruction():
    torch.manual_seed(0)
    model = models.MLPAutoencoder(latent_dim=2, hidden_dim=16)
    x = torch.rand(6, 1, 28, 28)
    terms = losses.autoencoder_loss(model, x)
    assert set(terms) == {"loss"}
    assert terms["loss"].shape == (6,)
    logits, _ = model(x)
    torch.testing.assert_close(terms["loss"], losses.bernoulli_nll(logits, x))


# --- bad input and edge values (issue 8) ----------------------------------------------------

def test_bernoulli_nll_rejects_unscaled_uint8_pixels_saying_how_to_scale():
    x = torch.arange(32, dtype=torch.uint8).reshape(2, 1, 4, 4) * 8 + 7    # 7..255
    with pytest.raises(ValueError, match=r"\[0, 1\].*7 to 255.*x\.float\(\) / 255"):
        losses.bernoulli_nll(torch.zeros(2, 1, 4, 4), x)


def test_bernoulli_nll_rejects_float_pixels_above_one_and_below_zero():
    with pytest.raises(ValueError, match=r"values from 0 to 255"):
        losses.bernoulli_nll(torch.zeros(1, 3), torch.tensor([[0.0, 1.0, 255.0]]))
    with pytest.raises(ValueError, match=r"values from -0.5 to"):
        losses.bernoulli_nll(torch.zeros(1, 2), torch.tensor([[-0.5, 0.5]]))


def test_bernoulli_nll_at_infinite_logits_is_exact_not_nan():
    logits = torch.tensor([[math.inf, -math.inf], [math.inf, 0.0], [-math.inf, 0.0]])
    x = torch.tensor([[1.0, 0.0], [0.5, 1.0], [1.0, 1.0]])
    nll = losses.bernoulli_nll(logits, x)
    assert nll[0].item() == 0.0                   # both pixels agree with the saturated sigmoid
    assert nll[1].item() == math.inf and nll[2].item() == math.inf   # certain and wrong
    finite = torch.tensor([[30.0, -2.0]])
    assert torch.allclose(losses.bernoulli_nll(finite, torch.tensor([[1.0, 0.0]])),
                          -Bernoulli(logits=finite).log_prob(torch.tensor([[1.0, 0.0]])).sum(1))


def test_bernoulli_nll_gradient_stays_finite_next_to_an_infinite_logit():
    logits = torch.tensor([[math.inf, 0.3]], requires_grad=True)
    losses.bernoulli_nll(logits, torch.tensor([[1.0, 1.0]])).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_gaussian_nll_is_finite_where_x_equals_the_mean_at_tiny_sigma():
    x = torch.full((2, 1, 2, 2), 0.5)
    for log_sigma in (-89.0, -100.0, -500.0):
        nll = losses.gaussian_nll(x.clone(), x, log_sigma)
        expected = 4 * (log_sigma + 0.5 * losses.LOG_2PI)
        assert torch.isfinite(nll).all(), log_sigma
        assert torch.allclose(nll, torch.full((2,), expected)), (log_sigma, nll)
    off = x.clone()
    off[0, 0, 0, 0] = 0.6
    assert losses.gaussian_nll(off, x, -100.0)[0].item() == math.inf


def test_gaussian_nll_gradient_is_exact_where_x_equals_the_mean_at_tiny_sigma():
    # d/d mean of 0.5 (x - mean)^2 / sigma^2 is 0 at x == mean; d/d log_sigma of the sum is
    # one per pixel (the + log_sigma term): no NaN from the overflowing exp(-log_sigma).
    x = torch.full((2, 1, 2, 2), 0.5)
    for value in (-89.0, -100.0, -500.0):
        mean = x.clone().requires_grad_(True)
        log_sigma = torch.tensor(value, requires_grad=True)
        losses.gaussian_nll(mean, x, log_sigma).sum().backward()
        assert torch.equal(mean.grad, torch.zeros_like(x)), value
        assert log_sigma.grad.item() == x.numel(), (value, log_sigma.grad)


def test_gaussian_nll_gradient_matches_the_formula_at_an_ordinary_sigma():
    torch.manual_seed(0)
    x = torch.rand(3, 4)
    mean = torch.rand(3, 4, requires_grad=True)
    log_sigma = torch.tensor(-0.7, requires_grad=True)
    losses.gaussian_nll(mean, x, log_sigma).sum().backward()
    var = math.exp(-1.4)
    assert torch.allclose(mean.grad, -(x - mean.detach()) / var, rtol=1e-5)
    want = x.numel() - ((x - mean.detach()) ** 2).sum().item() / var
    assert abs(log_sigma.grad.item() - want) < 1e-4 * (abs(want) + 1)


def test_gaussian_nll_reads_a_batch_shaped_log_sigma_as_one_sigma_per_example():
    torch.manual_seed(0)
    mean, x = torch.rand(28, 1, 28, 28), torch.rand(28, 1, 28, 28)
    log_sigma = torch.linspace(-2.0, 1.0, 28)
    got = losses.gaussian_nll(mean, x, log_sigma)
    want = torch.stack([losses.gaussian_nll(mean[i:i + 1], x[i:i + 1], log_sigma[i])[0]
                        for i in range(28)])
    assert torch.allclose(got, want, rtol=1e-5)
    reference = -Normal(mean, torch.exp(log_sigma).view(28, 1, 1, 1)).log_prob(x).sum((1, 2, 3))
    assert torch.allclose(got, reference, rtol=1e-4)


def test_gaussian_nll_rejects_a_log_sigma_that_would_broadcast_along_the_width():
    mean = torch.rand(4, 1, 28, 28)
    with pytest.raises(ValueError, match=r"log_sigma has shape \(28,\).*\(4,\) for one sigma per "
                                         r"example"):
        losses.gaussian_nll(mean, mean, torch.zeros(28))
    with pytest.raises(ValueError, match=r"log_sigma has shape \(4, 28\)"):
        losses.gaussian_nll(mean, mean, torch.zeros(4, 28))


def test_gaussian_nll_still_accepts_per_pixel_and_full_rank_log_sigma():
    mean, x = torch.rand(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    for shape in [(), (1, 4, 4), (3, 1, 1, 1), (1, 1, 4, 4), (3, 1, 4, 4)]:
        ls = torch.full(shape, -0.5)
        assert torch.allclose(losses.gaussian_nll(mean, x, ls), losses.gaussian_nll(mean, x, -0.5))


class _AE(torch.nn.Module):
    def forward(self, x):
        return torch.zeros_like(x), torch.zeros(x.shape[0], 2)


def test_vae_loss_given_an_autoencoder_names_autoencoder_loss():
    with pytest.raises(ValueError, match=r"vae_loss needs model\(x\) to return \(logits, mu, "
                                         r"logvar\); _AE returned 2 values.*autoencoder_loss"):
        losses.vae_loss(_AE(), torch.rand(2, 1, 28, 28))


def test_autoencoder_loss_given_a_vae_names_vae_loss():
    with pytest.raises(ValueError, match=r"autoencoder_loss needs model\(x\) to return "
                                         r"\(logits, z\); MLPVAE returned 3 values.*vae_loss"):
        losses.autoencoder_loss(models.MLPVAE(latent_dim=2, hidden_dim=8), torch.rand(2, 784))


def test_vae_loss_accepts_flat_images_and_matches_the_image_shaped_loss():
    model = models.MLPVAE(latent_dim=2, hidden_dim=8)
    x = torch.rand(3, 1, 28, 28)
    torch.manual_seed(1)
    flat = losses.vae_loss(model, x.reshape(3, 784))
    torch.manual_seed(1)
    image = losses.vae_loss(model, x)
    for k in ("loss", "recon", "kl"):
        assert torch.allclose(flat[k], image[k]), k
    ae = models.MLPAutoencoder(latent_dim=2, hidden_dim=8)
    assert torch.allclose(losses.autoencoder_loss(ae, x.reshape(3, 784))["loss"],
                          losses.autoencoder_loss(ae, x)["loss"])


def test_gaussian_kl_per_dim_sums_to_gaussian_kl_and_matches_torch():
    per_dim = losses.gaussian_kl_per_dim(MU, LOGVAR)
    assert per_dim.shape == MU.shape and (per_dim >= 0).all()
    assert torch.allclose(per_dim.sum(1), losses.gaussian_kl(MU, LOGVAR))
    q = Normal(MU, torch.exp(0.5 * LOGVAR))
    assert torch.allclose(per_dim, kl_divergence(q, Normal(0.0, 1.0)))
