"""Checker for the β-VAE exercise: the loss terms (reconstruction, KL, β weighting)."""
from __future__ import annotations

import torch

from ._harness import (F64, LARGE_LOGITS, LARGE_TARGETS, Checker, bce_reference,
                       bernoulli_mistakes, close, compare, diagnose, keeps_float32,
                       kl_reference, per_example, require_exact_for_large_logits,
                       require_gradients, require_graph,
                       require_stable_in_float32)

__all__ = ["check_beta_vae_loss"]


def check_beta_vae_loss(fn) -> None:
    """Check ``fn(logits, x, mu, logvar, beta) -> {"loss", "recon", "kl"}``.

    Expected: ``recon`` = Bernoulli negative log-likelihood from logits, summed over pixels
    (exact for large logits too); ``kl`` = KL(q(z|x) || N(0, I)), summed over latent
    dimensions, the same whatever β; ``loss = recon + beta * kl``; each ``(batch,)`` in nats.
    Checked on ``float64`` inputs (batch 3, 6 pixels, 4 latents) for several β, at logits of
    ±100 in float32, and by autograd: the gradient of ``loss`` with respect to ``logits``,
    ``mu`` and ``logvar`` must be the reference's (no ``.item()``, ``.detach()`` or NumPy).
    Prints ``β-VAE loss: 7/7 checks passed`` or raises ``AssertionError``.
    """
    c = Checker("β-VAE loss", "beta_vae_loss")
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame
    g = torch.Generator().manual_seed(0)
    batch, latent, pixels = 3, 4, 6
    x = torch.rand(batch, 1, 2, 3, generator=g, dtype=F64)
    logits = 2 * torch.randn(batch, 1, 2, 3, generator=g, dtype=F64)
    mu = torch.randn(batch, latent, generator=g, dtype=F64)
    logvar = 0.7 * torch.randn(batch, latent, generator=g, dtype=F64)
    recon_ref, kl_ref = bce_reference(logits, x), kl_reference(mu, logvar)

    with c.step("returns the three terms"):
        out = c.call(fn, logits.clone(), x.clone(), mu.clone(), logvar.clone(), 2.0)
        if not isinstance(out, dict) or not {"loss", "recon", "kl"} <= set(out):
            got = sorted(out) if isinstance(out, dict) else type(out).__name__
            c.fail(f"return a dict with keys 'loss', 'recon' and 'kl' (got {got}).")
    with c.step("one finite value per example"):
        recon = per_example(c, out["recon"], "out['recon']", batch)
        kl = per_example(c, out["kl"], "out['kl']", batch)
        per_example(c, out["loss"], "out['loss']", batch)
        with torch.enable_grad():
            leaves = [t.clone().requires_grad_(True) for t in (logits, mu, logvar)]
            out_g = c.call(fn, *(t.clone() for t in leaves[:1]), x.clone(),
                           *(t.clone() for t in leaves[1:]), 2.0)   # clones: in-place allowed
            require_graph(c, out_g["loss"], "out['loss']", "logits, mu and logvar")
        as32 = [t.float() for t in (logits, x, mu, logvar)]
        out32 = c.call(fn, *as32, 2.0)
        keeps_float32(c, {k: out32[k] for k in ("loss", "recon", "kl")}, "beta_vae_loss")
    with c.step("reconstruction term"):
        recon1 = per_example(c, c.call(fn, logits.clone(), x.clone(), mu.clone(), logvar.clone(),
                                       1.0)["recon"], "out['recon']", batch)
        if not close(recon, recon1):
            c.fail("out['recon'] changes with beta: it is the plain -log p(x|z); beta weights "
                   "only the KL, in 'loss' = recon + beta * kl.")
        if not close(recon, recon_ref):
            diagnose(c, recon, recon_ref, "recon", summed_over="pixels", n=pixels,
                      mistakes=bernoulli_mistakes(logits, x, "recon"),
                      otherwise="recon is not the Bernoulli negative log-likelihood: use "
                                "F.binary_cross_entropy_with_logits(logits, x, "
                                "reduction='none') summed over pixels")
    with c.step("reconstruction exact for large logits (float64 and float32)"):
        m0, lv0 = torch.zeros(1, latent, dtype=F64), torch.zeros(1, latent, dtype=F64)
        big = c.call(fn, LARGE_LOGITS.view(1, 1, 2, 3).clone(),
                     LARGE_TARGETS.view(1, 1, 2, 3).clone(), m0, lv0, 1.0)
        require_exact_for_large_logits(c, big["recon"] if isinstance(big, dict) else big, "recon")

        def recon32(big_logits, big_x):
            __tracebackhide__ = True
            out = c.call(fn, big_logits, big_x, m0.float(), lv0.float(), 1.0)
            return out["recon"] if isinstance(out, dict) else out
        require_stable_in_float32(c, recon32, "recon")
    with c.step("KL term"):
        kl1 = per_example(c, c.call(fn, logits.clone(), x.clone(), mu.clone(), logvar.clone(),
                                    1.0)["kl"], "out['kl']", batch)
        if not close(kl, kl1):                         # kl at beta = 2 and at beta = 1
            if close(kl, 2 * kl1):
                c.fail("out['kl'] is already multiplied by beta (it doubles from beta=1 to "
                       "beta=2): return the plain KL as 'kl', and weight it only in "
                       "'loss' = recon + beta * kl.")
            c.fail("out['kl'] changes with beta: it is the plain KL(q(z|x) || N(0, I)); beta "
                   "weights it only in 'loss' = recon + beta * kl.")
        if not close(kl, kl_ref):
            sigma_as_log = -0.5 * (1 + 2 * logvar - mu**2 - logvar.exp() ** 2).sum(1)
            mu_doubled = -0.5 * (1 + logvar - 2 * mu - logvar.exp()).sum(1)
            sigma_for_var = -0.5 * (1 + logvar - mu**2 - (0.5 * logvar).exp()).sum(1)
            diagnose(c, kl, kl_ref, "kl", summed_over="latent dimensions", n=latent,
                      mistakes=[(2 * kl_ref, "kl is twice too large: the closed form has a "
                                             "factor 1/2."),
                                (sigma_as_log, "kl treats logvar as log(sigma); it is "
                                               "log(sigma^2), so sigma^2 = exp(logvar)."),
                                (mu_doubled, "kl has mu * 2 where the closed form has mu "
                                             "squared: mu ** 2 or mu.pow(2)."),
                                (sigma_for_var, "kl uses sigma = exp(logvar / 2) where the "
                                                "closed form has the variance sigma^2 = "
                                                "exp(logvar).")],
                      otherwise="kl does not match KL(N(mu, exp(logvar)) || N(0, I)) = "
                                "-1/2 * sum(1 + logvar - mu^2 - exp(logvar))")
    with c.step("β weights the KL"):
        for beta in (0.0, 0.5, 4.0):
            out = c.call(fn, logits.clone(), x.clone(), mu.clone(), logvar.clone(), beta)
            loss = per_example(c, out["loss"], "out['loss']", batch)
            want = recon_ref + beta * kl_ref
            if close(loss, want):
                continue
            if close(loss, recon_ref + kl_ref):
                c.fail(f"beta is ignored: with beta={beta} the loss must be recon + beta * kl.")
            if close(loss, beta * recon_ref + kl_ref):
                c.fail("beta is applied to the reconstruction term; it weights the KL: "
                       "recon + beta * kl.")
            if close(loss, recon_ref - beta * kl_ref):
                c.fail("the KL is subtracted; the loss (negative ELBO) is recon + beta * kl.")
            c.fail(f"with beta={beta} the loss is not recon + beta * kl "
                   f"({compare(loss, want)}).")
    with c.step("gradients reach logits, mu and logvar"), torch.enable_grad():
        names = ("logits", "mu", "logvar")
        leaves = {k: t.clone().requires_grad_(True) for k, t in zip(names, (logits, mu, logvar))}
        refs = {k: t.clone().requires_grad_(True) for k, t in zip(names, (logits, mu, logvar))}
        out = c.call(fn, leaves["logits"].clone(), x.clone(), leaves["mu"].clone(),
                     leaves["logvar"].clone(), 0.5)
        want = bce_reference(refs["logits"], x) + 0.5 * kl_reference(refs["mu"], refs["logvar"])
        require_gradients(c, out["loss"], want, leaves, refs, "out['loss']")
    c.passed()
