"""The training loop's fast paths give the same numbers as the plain forms they replace.

Issue 22 made ``fit``'s epoch faster: Adam's fused step as ``fit``'s default optimiser,
``index_select`` for the shuffled batches, and a Bernoulli loss that skips its fix for
infinite logits when there are none. Each test compares a fast path with the plain form,
bit for bit where the fast path promises that.
"""
import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import data, losses, models, train
from course_utils.data import Split


def _plain_bernoulli_nll(logits, x):
    """The loss as written before the fast path: the fix for infinite logits always applied."""
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    saturated = torch.where(x == (logits > 0).to(x.dtype), 0.0, math.inf).to(nll.dtype)
    return torch.where(torch.isinf(logits), saturated, nll).reshape(len(x), -1).sum(1)


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_bernoulli_nll_fast_path_is_bit_for_bit_the_plain_form(scale):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(16, 1, 28, 28, generator=gen)
    x[:4] = (x[:4] > 0.5).float()  # some binary images too
    logits = (scale * torch.randn(16, 1, 28, 28, generator=gen)).requires_grad_()
    plain_logits = logits.detach().clone().requires_grad_()
    fast = losses.bernoulli_nll(logits, x)
    plain = _plain_bernoulli_nll(plain_logits, x)
    assert torch.equal(fast, plain)
    weights = torch.linspace(0.5, 2.0, 16)
    (fast * weights).sum().backward()
    (plain * weights).sum().backward()
    assert torch.equal(logits.grad, plain_logits.grad)


def test_bernoulli_nll_still_exact_at_infinite_logits():
    """Rows with saturated logits take the slow path; the rows without keep the fast values."""
    logits = torch.tensor([[math.inf, -math.inf, 0.3], [math.inf, 2.0, -1.0],
                           [0.1, 0.2, 0.3]])
    x = torch.tensor([[1.0, 0.0, 1.0], [0.5, 1.0, 0.0], [0.0, 1.0, 0.5]])
    got = losses.bernoulli_nll(logits, x)
    assert torch.equal(got, _plain_bernoulli_nll(logits, x))
    assert got[0] == pytest.approx(float(F.softplus(torch.tensor(-0.3))))
    assert math.isinf(got[1]) and math.isfinite(got[2])


def test_bernoulli_nll_nan_logits_stay_nan():
    logits = torch.tensor([[float("nan"), 0.0]])
    assert torch.isnan(losses.bernoulli_nll(logits, torch.tensor([[1.0, 0.0]]))).all()


def test_negative_elbo_with_beta_one_is_bit_for_bit_recon_plus_kl():
    gen = torch.Generator().manual_seed(1)
    recon, kl = torch.rand(8, generator=gen) * 300, torch.rand(8, generator=gen) * 30
    assert torch.equal(losses.negative_elbo(recon, kl), recon + 1.0 * kl)
    assert torch.equal(losses.negative_elbo(recon, kl, beta=1), recon + 1.0 * kl)
    assert torch.equal(losses.negative_elbo(recon, kl, beta=0.5), recon + 0.5 * kl)
    assert losses.negative_elbo(recon.double(), kl.double()).dtype == torch.float64


def test_shuffled_batches_hold_the_same_rows_as_indexing():
    gen = torch.Generator().manual_seed(2)
    x, y = torch.rand(50, 1, 4, 4, generator=gen), torch.arange(50)
    order = torch.randperm(50, generator=torch.Generator().manual_seed(7))
    got = list(data.batches(x, y, batch_size=16, generator=torch.Generator().manual_seed(7)))
    assert [len(b[0]) for b in got] == [16, 16, 16, 2]
    for i, (xb, yb) in enumerate(got):
        idx = order[16 * i:16 * (i + 1)]
        assert torch.equal(xb, x[idx]) and torch.equal(yb, y[idx])


def test_fit_default_optimiser_is_adam_with_a_fast_step():
    model = models.MLPVAE(latent_dim=2, hidden_dim=8)
    opt = train._adam(model.parameters(), 1e-3)
    assert isinstance(opt, torch.optim.Adam) and opt.param_groups[0]["lr"] == 1e-3
    assert opt.defaults["fused"] or opt.defaults["foreach"]


def test_fit_default_optimiser_falls_back_to_foreach_without_fused(monkeypatch):
    real = torch.optim.Adam

    def no_fused(params, **kwargs):
        if kwargs.get("fused"):
            raise RuntimeError("`fused=True` requires all the params to be on a supported device")
        return real(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", no_fused)
    opt = train._adam(models.MLPVAE(latent_dim=2, hidden_dim=8).parameters(), 1e-3)
    assert opt.defaults["foreach"] and not opt.defaults["fused"]


def test_fast_adam_steps_match_the_plain_loop_to_float_precision():
    torch.manual_seed(0)
    a = models.MLPVAE(latent_dim=3, hidden_dim=16)
    b = models.MLPVAE(latent_dim=3, hidden_dim=16)
    b.load_state_dict(a.state_dict())
    fast, plain = train._adam(a.parameters(), 1e-3), torch.optim.Adam(b.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(3)
    for _ in range(5):
        for p, q in zip(a.parameters(), b.parameters()):
            p.grad = torch.randn(p.shape, generator=gen)
            q.grad = p.grad.clone()
        fast.step()
        plain.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_fit_trains_with_its_default_optimiser():
    """``fit`` without ``optimizer`` gives the very weights of ``fit`` given ``train._adam``."""
    gen = torch.Generator().manual_seed(4)
    split = Split(torch.rand(40, 1, 28, 28, generator=gen), torch.zeros(40, dtype=torch.int64))
    weights = []
    for explicit in (False, True):
        torch.manual_seed(0)
        model = models.MLPVAE(latent_dim=2, hidden_dim=8)
        opt = train._adam(model.parameters(), 1e-3) if explicit else None
        train.fit(model, losses.vae_loss, split, epochs=2, batch_size=16, optimizer=opt,
                  device="cpu")
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(*weights)
