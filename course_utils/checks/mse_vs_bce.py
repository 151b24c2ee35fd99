"""Checkers for the MSE vs BCE exercise: the Gaussian and the Bernoulli reconstruction terms."""
from __future__ import annotations

import math

import torch

from ._harness import (F64, LOG_2PI, LARGE_LOGITS, LARGE_TARGETS, Checker, bce_reference,
                       bernoulli_mistakes, close, compare, diagnose, keeps_float32, per_example,
                       require_exact_for_large_logits, require_gradients, require_graph,
                       require_stable_in_float32)

__all__ = ["check_gaussian_recon", "check_bernoulli_recon"]


def check_gaussian_recon(fn) -> None:
    """Check ``fn(mean, x, log_sigma) -> (batch,)``: ``-log N(x | mean, sigma^2 I)`` in nats.

    Per pixel ``0.5 * ((x - mean) / sigma)**2 + log_sigma + 0.5 * log(2 pi)``, summed over
    pixels, compared with ``torch.distributions.Normal``; ``log_sigma`` may be a float or a
    tensor that broadcasts; autograd's gradient with respect to ``mean`` and ``log_sigma``
    must be the reference's (a learned σ trains through it: no ``float()``, ``.item()``,
    ``.detach()`` or NumPy); no argument may be changed in place. Prints
    ``Gaussian reconstruction: 5/5 checks passed`` or raises ``AssertionError``.
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
        with torch.enable_grad():
            require_graph(c, c.call(fn, mean.clone().requires_grad_(True).clone(), x.clone(),
                                    log_sigma),
                          "gaussian_recon(...)", "`mean`")
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
                (ref - const, no_const),
                (ref - pixels * 0.5 * LOG_2PI, "the normalising constant 0.5 * log(2 pi) per "
                                               "pixel is missing: add it to every pixel's term "
                                               "(-log N is in nats only with it)."),
                (sq / sigma**2 + const, "the squared error needs a factor 1/2: "
                                        "0.5 * ((x - mean) / sigma)^2."),
                (0.5 * sq / sigma + const, "divide the squared error by sigma^2, not sigma."),
                (0.5 * sq / log_sigma**2 + pixels * (math.log(abs(log_sigma)) + 0.5 * LOG_2PI),
                 "log_sigma is used as sigma; sigma = exp(log_sigma)."),
                (0.5 * sq / sigma + pixels * 0.5 * (log_sigma + LOG_2PI),
                 "log_sigma is used as log(sigma^2); it is log(sigma), so sigma^2 = "
                 "exp(2 * log_sigma)."),
                (ref + pixels * 0.5 * LOG_2PI, "the constant is 0.5 * log(2 pi) per pixel, "
                                               "not log(2 pi)."),
                (ref - pixels * log_sigma, "the log(sigma) term is missing: add log_sigma per "
                                           "pixel (it is what stops a learned sigma from "
                                           "growing without bound)."),
                (ref - 2 * pixels * log_sigma, "log(sigma) is subtracted; -log N adds it: "
                                               "+ log_sigma per pixel."),
                (ref + (784 - pixels) * (log_sigma + 0.5 * LOG_2PI),
                 "the constant is counted for 784 pixels, a hard-coded image size (these test "
                 "images have 6): add log_sigma + 0.5 * log(2 pi) to every pixel's term and sum "
                 "over the pixels of x, which also lets a per-pixel log_sigma broadcast.")],
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
    with c.step("gradients reach mean and log_sigma"), torch.enable_grad():
        leaves = {"mean": mean.clone().requires_grad_(True),
                  "log_sigma": torch.tensor(-0.5, dtype=F64, requires_grad=True)}
        refs = {k: t.detach().clone().requires_grad_(True) for k, t in leaves.items()}
        got = c.call(fn, leaves["mean"].clone(), x.clone(), leaves["log_sigma"].clone())
        want = -torch.distributions.Normal(refs["mean"], refs["log_sigma"].exp()).log_prob(x)
        require_gradients(c, got, want.flatten(1).sum(1), leaves, refs, "gaussian_recon(...)")
    c.passed()


def check_bernoulli_recon(fn) -> None:
    """Check ``fn(logits, x) -> (batch,)``: ``-log Bernoulli(x | sigmoid(logits))`` in nats.

    Summed over pixels, computed from logits so that it stays exact for large |logits|
    (|logit| = 30 to 500 are tested, where ``log(sigmoid(.))`` underflows, and ±100 in float32,
    where ``exp`` overflows). ``x`` may be grey levels in [0, 1]. Autograd's gradient with
    respect to the logits must be the reference's, ``sigmoid(logits) - x``. Prints
    ``Bernoulli reconstruction: 5/5 checks passed`` or raises ``AssertionError``.
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
        with torch.enable_grad():
            require_graph(c, c.call(fn, logits.clone().requires_grad_(True).clone(), x.clone()),
                          "bernoulli_recon(...)", "`logits`")
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
    with c.step("exact for large logits (float64 and float32)"):
        got = c.call(fn, LARGE_LOGITS.view(1, 1, 2, 3).clone(),
                     LARGE_TARGETS.view(1, 1, 2, 3).clone())
        require_exact_for_large_logits(c, got, "bernoulli_recon")
        require_stable_in_float32(c, lambda l, t: c.call(fn, l, t), "bernoulli_recon")
    with c.step("gradient"), torch.enable_grad():
        leaves, refs = ({"logits": logits.clone().requires_grad_(True)} for _ in range(2))
        got = c.call(fn, leaves["logits"].clone(), x.clone())
        require_gradients(c, got, bce_reference(refs["logits"], x), leaves, refs,
                          "bernoulli_recon(...)")
    c.passed()
