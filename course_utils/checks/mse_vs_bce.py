"""Checkers for the MSE vs BCE exercise: the Gaussian and the Bernoulli reconstruction terms."""
from __future__ import annotations

import math

import torch

from ._harness import (F64, LOG_2PI, LARGE_LOGITS, LARGE_TARGETS, Checker, bce_reference,
                       bernoulli_mistakes, close, compare, diagnose, keeps_float32, per_example,
                       require_exact_for_large_logits)

__all__ = ["check_gaussian_recon", "check_bernoulli_recon"]


def check_gaussian_recon(fn) -> None:
    """Check ``fn(mean, x, log_sigma) -> (batch,)``: ``-log N(x | mean, sigma^2 I)`` in nats.

    Per pixel ``0.5 * ((x - mean) / sigma)**2 + log_sigma + 0.5 * log(2 pi)``, summed over
    pixels, compared with ``torch.distributions.Normal``; ``log_sigma`` may be a float or a
    tensor that broadcasts (and must keep its gradient, for a learned σ); no argument may be
    changed in place. Prints ``Gaussian reconstruction: 5/5 checks passed`` or raises
    ``AssertionError``.
    """
    c = Checker("Gaussian reconstruction", "gaussian_recon")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame
    g = torch.Generator().manual_seed(0)
    batch, pixels = 3, 6
    x = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)
    mean = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)

    def reference(log_sigma):
        sigma = torch.exp(torch.as_tensor(log_sigma, dtype=F64)).expand_as(mean)
        return -torch.distributions.Normal(mean, sigma).log_prob(x).flatten(1).sum(1)

    log_sigma = -1.2
    with c.step("one finite value per example"):
        got = per_example(c, c.call(fn, mean.clone(), x.clone(), log_sigma),
                           "gaussian_recon(...)", batch)
        keeps_float32(c, c.call(fn, mean.float(), x.float(), log_sigma), "gaussian_recon")
    with c.step("value"):
        ref = reference(log_sigma)
        if not close(got, ref):
            sq = ((x - mean) ** 2).flatten(1).sum(1)
            sigma = math.exp(log_sigma)
            const = pixels * (log_sigma + 0.5 * LOG_2PI)
            no_const = "the normalising constant is missing: add log_sigma + 0.5 * log(2 pi) " \
                       "per pixel (it matters once sigma is learned, and for nats)."
            diagnose(c, got, ref, "gaussian_recon", summed_over="pixels", n=pixels, mistakes=[
                (ref - const, no_const), (ref - pixels * 0.5 * LOG_2PI, no_const),
                (sq / sigma**2 + const, "the squared error needs a factor 1/2: "
                                        "0.5 * ((x - mean) / sigma)^2."),
                (0.5 * sq / sigma + const, "divide the squared error by sigma^2, not sigma."),
                (0.5 * sq / log_sigma**2 + pixels * (math.log(abs(log_sigma)) + 0.5 * LOG_2PI),
                 "log_sigma is used as sigma; sigma = exp(log_sigma)."),
                (0.5 * sq / sigma + pixels * 0.5 * (log_sigma + LOG_2PI),
                 "log_sigma is used as log(sigma^2); it is log(sigma), so sigma^2 = "
                 "exp(2 * log_sigma)."),
                (ref + pixels * 0.5 * LOG_2PI, "the constant is 0.5 * log(2 pi) per pixel, "
                                               "not log(2 pi).")],
                otherwise="does not match -log N(x | mean, sigma^2): per pixel "
                          "0.5 * ((x - mean) / sigma)^2 + log_sigma + 0.5 * log(2 pi), summed")
    with c.step("other sigmas"):
        for ls in (0.0, 0.7, -3.0):
            got = per_example(c, c.call(fn, mean.clone(), x.clone(), ls), "gaussian_recon(...)",
                               batch)
            if not close(got, reference(ls)):
                c.fail(f"wrong value for log_sigma={ls} (it is right for -1.2); is a sigma "
                       f"hard-coded? ({compare(got, reference(ls))})")
    with c.step("a per-pixel log_sigma broadcasts"):
        per_pixel = 0.3 * torch.randn(1, 1, 2, 3, generator=g, dtype=F64)
        got = per_example(c, c.call(fn, mean.clone(), x.clone(), per_pixel.clone()),
                           "gaussian_recon(...) with a per-pixel log_sigma", batch)
        if not close(got, reference(per_pixel)):
            c.fail("wrong for a tensor log_sigma of shape (1, 1, 2, 3): let it broadcast "
                   "against mean (don't call float() on it).")
    with c.step("gradient reaches log_sigma"):
        learned = torch.tensor(-0.5, dtype=F64, requires_grad=True)
        got = c.call(fn, mean.clone(), x.clone(), learned)
        if not isinstance(got, torch.Tensor) or not got.requires_grad:
            c.fail("no gradient reaches log_sigma: keep it a tensor (no float()/item()) so a "
                   "learned sigma can be trained.")
        got.sum().backward()
        probe = torch.tensor(-0.5, dtype=F64, requires_grad=True)
        want = torch.autograd.grad(reference(probe).sum(), probe)[0]
        if learned.grad is None or not close(learned.grad, want):
            c.fail("the gradient with respect to log_sigma is wrong; build the loss from "
                   "log_sigma with torch operations.")
    c.passed()


def check_bernoulli_recon(fn) -> None:
    """Check ``fn(logits, x) -> (batch,)``: ``-log Bernoulli(x | sigmoid(logits))`` in nats.

    Summed over pixels, computed from logits so that it stays exact for large |logits|
    (|logit| = 30 to 500 are tested, where ``log(sigmoid(.))`` underflows). ``x`` may be
    grey levels in [0, 1]. Prints ``Bernoulli reconstruction: 5/5 checks passed`` or
    raises ``AssertionError``.
    """
    c = Checker("Bernoulli reconstruction", "bernoulli_recon")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame
    g = torch.Generator().manual_seed(0)
    batch, pixels = 3, 6
    x = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)
    logits = 2 * torch.randn(batch, 1, 2, 3, generator=g, dtype=F64)
    with c.step("one finite value per example"):
        got = per_example(c, c.call(fn, logits.clone(), x.clone()), "bernoulli_recon(...)",
                           batch)
        keeps_float32(c, c.call(fn, logits.float(), x.float()), "bernoulli_recon")
    with c.step("value"):
        ref = bce_reference(logits, x)
        if not close(got, ref):
            diagnose(c, got, ref, "bernoulli_recon", summed_over="pixels", n=pixels,
                      mistakes=bernoulli_mistakes(logits, x, "bernoulli_recon"),
                      otherwise="does not match the binary cross-entropy from logits, "
                                "summed over pixels")
    with c.step("binary targets"):
        binary = (x > 0.5).to(F64)
        got = per_example(c, c.call(fn, logits.clone(), binary.clone()), "bernoulli_recon(...)",
                           batch)
        if not close(got, bce_reference(logits, binary)):
            c.fail(f"wrong for binary targets (0/1 pixels) "
                   f"({compare(got, bce_reference(logits, binary))}).")
    with c.step("exact for large logits"):
        got = c.call(fn, LARGE_LOGITS.view(1, 1, 2, 3).clone(),
                     LARGE_TARGETS.view(1, 1, 2, 3).clone())
        require_exact_for_large_logits(c, got, "bernoulli_recon")
    with c.step("gradient"):
        leaf = logits.clone().requires_grad_(True)
        out = c.call(fn, leaf, x.clone())
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            c.fail("no gradient reaches the logits: build the loss with torch operations.")
        out.sum().backward()
        if not close(leaf.grad, torch.sigmoid(logits) - x):
            c.fail("the gradient with respect to the logits should be sigmoid(logits) - x.")
    c.passed()
