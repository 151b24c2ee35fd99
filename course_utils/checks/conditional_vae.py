"""Checker for the conditional VAE exercise: encoder, decoder and the sampling in forward."""
from __future__ import annotations

import inspect
import math

import torch

from ._harness import F64, NO_GRAPH, Checker, as_tensor, close, compare

__all__ = ["check_cvae"]


# The sampling test: a stub encoder returns fixed mu and logvar (batch 256, latent 3; logvar
# drawn from [-2.5, -0.5] in half of the entries and from [0.5, 2] in the other half, so
# that sigma, sigma^2 and 1 all differ), forward runs 25 times, and the standardised noise
# e = (z - mu) / sigma that reached the decoder must look like independent N(0, 1) draws:
# n = 9,600 draws in each half. Under a right answer the mean of e has standard error
# 1/sqrt(n) and its sd 1/sqrt(2n); the bounds are 5 standard errors (a right answer fails
# with probability < 1e-6), the Kolmogorov-Smirnov distance is bounded at its 1e-6 level
# sqrt(ln(2e6) / 2) / sqrt(n), and correlations between examples or latent dimensions of
# one call at 5 / sqrt(pairs); noise shared by examples or dimensions shows as repeated values.
_DRAW_BATCH, _DRAW_LATENT, _DRAW_CALLS, _SIGMAS = 256, 3, 25, 5.0
_OTHERS = [0, 1, 3]            # the examples that must not change when only example 2 does
# The gradient test's extreme rows: mu = 0 and logvar = ±25 (sigma = exp(±12.5)), far beyond
# any clamp of logvar or sigma, finite in float32.
_EXTREME_ROWS, _EXTREME_LOGVAR = 32, 25.0


# Library errors of this exercise, with what they usually mean here.
_ERRORS = [("mat1 and mat2 shapes cannot be multiplied",
            "the features fed to an nn.Linear do not have the width it was built for: the "
            "encoder takes the 784 pixels and the one-hot code of num_classes columns, the "
            "decoder z and the one-hot code, joined along dim=1; F.one_hot(y) without "
            "num_classes has only max(y) + 1 columns")]


def _normal_cdf(t: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(t / math.sqrt(2)))


def _is_standard_normal(e: torch.Tensor) -> bool:
    """Mean, sd and Kolmogorov-Smirnov distance of the draws ``e`` all within the bounds."""
    n = e.numel()
    s = e.flatten().sort().values
    ks = (torch.arange(1, n + 1, dtype=F64) / n - _normal_cdf(s)).abs().max().item()
    return (abs(e.mean().item()) <= _SIGMAS / math.sqrt(n)
            and abs(e.std().item() - 1) <= _SIGMAS / math.sqrt(2 * n)
            and ks <= math.sqrt(math.log(2e6) / 2) / math.sqrt(n))


def _check_sampling(c: Checker, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor):
    """z: (calls, batch, latent) reaching the decoder; mu, logvar: (batch, latent) fixed."""
    __tracebackhide__ = True
    sigma = torch.exp(0.5 * logvar)
    e = (z - mu) / sigma                               # must be independent N(0, 1) draws
    low = logvar < 0                                   # the two halves of the logvar range
    halves = [e[:, low], e[:, ~low]]
    right = all(_is_standard_normal(h) for h in halves)
    if bool(((z - mu).abs() < 1e-6).all()):
        c.fail("forward decodes mu: sample z = mu + exp(logvar / 2) * eps first.")
    for axis, what in ((1, "example"), (2, "latent dimension")):
        first = e.narrow(axis, 0, 1)
        if ((e - first).abs() < 1e-4).float().mean().item() > 0.9:
            c.fail(f"the noise is shared: every {what} needs its own eps; draw "
                   "eps = torch.randn_like(mu), the shape of mu.")
    if not right:                                      # the mistakes with their own hint
        if _is_standard_normal(z):
            c.fail("z ignores the encoder: z = mu + exp(0.5 * logvar) * eps, not eps alone.")
        if _is_standard_normal(z - mu):
            c.fail("the noise is not scaled: z = mu + sigma * eps with "
                   "sigma = exp(0.5 * logvar).")
        if _is_standard_normal((z - mu) / logvar.abs()):
            c.fail("the noise is scaled by logvar itself; scale it by the standard deviation "
                   "sigma = exp(0.5 * logvar).")
        if _is_standard_normal((z - mu) / sigma**2):
            c.fail("the noise is scaled by exp(logvar) = sigma^2, the variance; scale it by "
                   "the standard deviation sigma = exp(0.5 * logvar).")
        if bool(((e > -1e-4) & (e < 1 + 1e-4)).all()):
            c.fail("eps is uniform on [0, 1) (torch.rand_like?); draw it from N(0, 1) with "
                   "torch.randn_like(mu).")
    if right:                                          # right marginals: independent?
        pairs = e.shape[0] * (e.shape[1] - 1)
        across_examples = (e[:, 1:, 0] * e[:, :-1, 0]).mean().item()
        across_latents = (e[:, 1:, 1] * e[:, 1:, 0]).mean().item()
        if max(abs(across_examples), abs(across_latents)) > _SIGMAS / math.sqrt(pairs):
            c.fail("the noise of different examples or latent dimensions is correlated "
                   f"({across_examples:.3f} between examples, {across_latents:.3f} between "
                   "latent dimensions): draw every eps independently, torch.randn_like(mu).")
        return
    for h in halves:
        n, m, sd = h.numel(), h.mean().item(), h.std().item()
        where = f"over {n} draws, (z - mu) / sigma has"
        if abs(m) > _SIGMAS / math.sqrt(n):
            c.fail(f"z is not centred on mu: {where} mean {m:.4f} (should be 0 ± "
                   f"{_SIGMAS / math.sqrt(n):.4f}); z = mu + exp(0.5 * logvar) * eps.")
        if abs(sd - 1) > _SIGMAS / math.sqrt(2 * n):
            c.fail(f"z has the wrong spread: {where} sd {sd:.4f} (should be 1 ± "
                   f"{_SIGMAS / math.sqrt(2 * n):.4f}); z = mu + exp(0.5 * logvar) * eps.")
    c.fail("(z - mu) / sigma is not standard normal (its histogram has the wrong shape): "
           "draw eps with torch.randn_like(mu), a Gaussian.")


def _label_enters_as_a_number(outputs: torch.Tensor) -> bool:
    """outputs: (10, batch, ...) for labels 0..9. True when a tenth of the steps
    y-1 -> y -> y+1 or more are collinear, as when y enters as one number (a ReLU network is
    then piecewise linear in y, and straight between kinks); with one-hot labels every class
    has its own weights, and a collinear step has probability ~0."""
    f = outputs.flatten(2).to(F64)
    d1 = (f[2:] - f[1:-1]).norm(dim=-1)
    d2 = (f[2:] - 2 * f[1:-1] + f[:-2]).norm(dim=-1)
    collinear = (d2 <= 1e-3 * d1) & (d1 > 0)
    return collinear.float().mean().item() >= 0.1


def _is_affine(f, a: torch.Tensor, b: torch.Tensor) -> bool:
    """f at the midpoints of the pairs (a[i], b[i]) equals the mean of f(a[i]) and f(b[i])."""
    fa, fb, fm = f(a).to(F64), f(b).to(F64), f((a + b) / 2).to(F64)
    gap = (fm - (fa + fb) / 2).abs().max().item()
    return gap <= 1e-4 * (fa - fb).abs().max().item()


def _in_training(model, *calls):
    """The results of ``calls`` with the model in training mode, each from the same random
    state (dropout draws the same masks), the model back in evaluation mode afterwards."""
    model.train()
    try:
        results = []
        for call in calls:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(5)
                results.append(call())
        return results
    finally:
        model.eval()


def check_cvae(cls) -> None:
    """Check a conditional VAE class ``cls(latent_dim=, num_classes=, hidden_dim=)``.

    Expected interface (images ``x: (batch, 1, 28, 28)`` in [0, 1], labels ``y: (batch,)``
    int64): ``encode(x, y) -> (mu, logvar)`` each ``(batch, latent_dim)`` with unbounded
    heads (no ReLU after them); ``decode(z, y) -> logits (batch, 1, 28, 28)``, unbounded (no
    sigmoid); ``forward(x, y) -> (logits, mu, logvar)`` calls ``self.encode(x, y)``, draws
    ``z ~ N(mu, exp(logvar))`` by reparameterisation, and returns ``self.decode(z, y)`` with
    the same labels. Both networks must use their input (image or z) and each example's own
    label, as a one-hot code (not a number), with a nonlinearity between layers; each example
    is processed on its own (changing one example's image or z changes only its own row, in
    evaluation and in training mode).
    Gradients must flow: from ``encode``'s outputs to its weights, from the logits to ``z``,
    and through the sample to ``mu`` and ``logvar`` exactly as ``z = mu + sigma * eps`` gives
    them (autograd compared with the reference, also at ``logvar = ±25``, where a clamp
    shows; ``torch.normal`` and ``.sample()`` pass none). Checked in float32 on a small
    network, with the global random state left as it was. Prints
    ``Conditional VAE: 10/10 checks passed`` or raises ``AssertionError``.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell and the hint, not this frame
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        _check_cvae(Checker("Conditional VAE", "CVAE", errors=_ERRORS), cls)


def _check_cvae(c: Checker, cls) -> None:
    __tracebackhide__ = True
    latent, batch = _DRAW_LATENT, 4
    torch.manual_seed(0)
    with c.step("constructs a module"):
        model = c.call(cls, latent_dim=latent, num_classes=10, hidden_dim=32)
        if not isinstance(model, torch.nn.Module):
            c.fail("CVAE must subclass torch.nn.Module (and call super().__init__()).")
        if not list(model.parameters()):
            c.fail("CVAE has no parameters: create its layers in __init__ with nn.Linear.")
        model.eval()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch, 1, 28, 28, generator=g)
    y = torch.tensor([0, 3, 7, 9])
    y_other = torch.tensor([5, 3, 2, 1])                    # example 1 keeps its label
    with c.step("encoder shapes"):
        enc = c.call(model.encode, x, y, name="CVAE.encode")
        if not isinstance(enc, (tuple, list)) or len(enc) != 2:
            c.fail("encode(x, y) must return a pair (mu, logvar).")
        mu, logvar = enc
        for name, t in (("mu", mu), ("logvar", logvar)):
            t = as_tensor(c, t, f"encode's {name}")
            if tuple(t.shape) != (batch, latent):
                c.fail(f"encode's {name} has shape {tuple(t.shape)}, expected ({batch}, {latent}) "
                       "= (batch, latent_dim).")
            if not bool(torch.isfinite(t).all()):
                c.fail(f"encode's {name} contains NaN or inf.")
        if close(mu, logvar):
            c.fail("encode returns the same tensor as mu and logvar: give each its own head "
                   "(two nn.Linear layers on the hidden features).")
    with c.step("encoder uses the image and each example's label"):
        mu_x, logvar_x = c.call(model.encode, x.flip(0), y, name="CVAE.encode")
        if close(mu, mu_x) and close(logvar, logvar_x):
            c.fail("the encoder ignores the image: concatenate the flattened image x with "
                   "one_hot(y, num_classes).")
        x_one = x.clone()
        x_one[2] = torch.rand(1, 28, 28, generator=g)          # only image 2 changes
        mu_one, logvar_one = c.call(model.encode, x_one, y, name="CVAE.encode")
        if not (close(mu_one[_OTHERS], mu[_OTHERS]) and close(logvar_one[_OTHERS],
                                                               logvar[_OTHERS])):
            c.fail("the encoder mixes images across the batch: changing image 2 alone changed "
                   "the codes of other examples. Flatten each image on its own, batch first: "
                   "x.flatten(1) or x.view(len(x), -1), not x.reshape(784, -1).T or "
                   "x.view(-1, len(x)).")
        if close(mu_one[2], mu[2]) and close(logvar_one[2], logvar[2]):
            c.fail("the encoder ignores its own image: changing image 2 left its code "
                   "unchanged; concatenate the flattened image x with one_hot(y, num_classes).")
        (mu_t, logvar_t), (mu_t1, logvar_t1) = _in_training(
            model, lambda: c.call(model.encode, x, y, name="CVAE.encode"),
            lambda: c.call(model.encode, x_one, y, name="CVAE.encode"))
        if not (close(mu_t1[_OTHERS], mu_t[_OTHERS]) and close(logvar_t1[_OTHERS],
                                                               logvar_t[_OTHERS])):
            c.fail("in training mode (model.train()) the encoder mixes examples across the "
                   "batch: changing image 2 alone changed the codes of other examples, as "
                   "BatchNorm's batch statistics do. Each example's code must depend only on "
                   "its own image and label: leave BatchNorm out (LayerNorm works per example).")
        mu2, logvar2 = c.call(model.encode, x, y_other, name="CVAE.encode")
        if close(mu, mu2) and close(logvar, logvar2):
            c.fail("the encoder ignores the label: concatenate one_hot(y, num_classes) to the "
                   "flattened image before the first layer.")
        if not (close(mu[1], mu2[1]) and close(logvar[1], logvar2[1])):
            c.fail("the encoder mixes examples: example i must see only its own label y[i].")
        per_label = torch.stack([c.call(model.encode, x, torch.full((batch,), k),
                                        name="CVAE.encode")[0] for k in range(10)])
        if _label_enters_as_a_number(per_label):
            c.fail("the encoder takes the label as a number (mu changes linearly from one "
                   "label to the next): feed one_hot(y, num_classes), so that each class gets "
                   "its own weights.")
        other = torch.rand(16, 1, 28, 28, generator=g)
        if _is_affine(lambda t: c.call(model.encode, t, y.repeat(4), name="CVAE.encode")[0],
                      torch.rand(16, 1, 28, 28, generator=g), other):
            c.fail("the encoder is affine in x (no nonlinearity between its layers?): put a "
                   "ReLU after the hidden layer.")
    with c.step("mu and logvar unbounded"):
        wide = 5 * torch.randn(256, 1, 28, 28, generator=g)    # varied inputs, both signs
        labels = torch.randint(0, 10, (256,), generator=g)
        for name, t in zip(("mu", "logvar"), c.call(model.encode, wide, labels,
                                                    name="CVAE.encode")):
            for never, sign in (("negative", t.min() >= 0), ("positive", t.max() <= 0)):
                if bool(sign):
                    c.fail(f"encode's {name} is never {never} over 256 varied inputs: is there "
                           f"a ReLU, softplus or sigmoid after the {name} head? mu and logvar "
                           "take any real value: end each head with a plain nn.Linear.")
    z = torch.randn(batch, latent, generator=g)
    with c.step("decoder uses z and each example's label"):
        logits = as_tensor(c, c.call(model.decode, z, y, name="CVAE.decode"), "decode(z, y)")
        if tuple(logits.shape) != (batch, 1, 28, 28):
            c.fail(f"decode(z, y) returned shape {tuple(logits.shape)}, expected "
                   f"({batch}, 1, 28, 28): reshape with .view(-1, 1, 28, 28).")
        if not bool(torch.isfinite(logits).all()):
            c.fail("decode(z, y) returned NaN or inf.")
        z_one = z.clone()
        z_one[2] = 3 * torch.randn(latent, generator=g)         # only example 2's z changes
        logits_one = as_tensor(c, c.call(model.decode, z_one, y, name="CVAE.decode"),
                               "decode(z, y)")
        if not close(logits_one[_OTHERS], logits[_OTHERS]):
            c.fail("the decoder mixes examples across the batch: changing z of example 2 alone "
                   "changed the logits of other examples. Reshape the output batch first, "
                   ".view(len(z), 1, 28, 28) or .view(-1, 1, 28, 28), with no transpose (.T).")
        if close(logits_one[2], logits[2]):
            c.fail("the decoder ignores z: changing z of example 2 left its logits unchanged; "
                   "concatenate z with one_hot(y, num_classes).")
        train_logits, train_logits_one = _in_training(
            model, lambda: c.call(model.decode, z, y, name="CVAE.decode"),
            lambda: c.call(model.decode, z_one, y, name="CVAE.decode"))
        if not close(train_logits_one[_OTHERS], train_logits[_OTHERS]):
            c.fail("in training mode (model.train()) the decoder mixes examples across the "
                   "batch: changing z of example 2 alone changed the logits of other examples, "
                   "as BatchNorm's batch statistics do. Each example's logits must depend only "
                   "on its own z and label: leave BatchNorm out (LayerNorm works per example).")
        logits2 = c.call(model.decode, z, y_other, name="CVAE.decode")
        if close(logits, logits2):
            c.fail("the decoder ignores the label: concatenate one_hot(y, num_classes) to z.")
        if not close(logits[1], logits2[1]):
            c.fail("the decoder mixes examples: example i must see only its own label y[i].")
        if close(logits, c.call(model.decode, z.flip(0), y, name="CVAE.decode")):
            c.fail("the decoder ignores z: concatenate z with one_hot(y, num_classes).")
        per_label = torch.stack([c.call(model.decode, z, torch.full((batch,), k),
                                        name="CVAE.decode") for k in range(10)])
        if _label_enters_as_a_number(per_label):
            c.fail("the decoder takes the label as a number (the logits change linearly from "
                   "one label to the next): feed one_hot(y, num_classes), so that each class "
                   "gets its own weights.")
        if _is_affine(lambda t: c.call(model.decode, t, y.repeat(4), name="CVAE.decode"),
                      3 * torch.randn(16, latent, generator=g),
                      3 * torch.randn(16, latent, generator=g)):
            c.fail("the decoder is affine in z (no nonlinearity between its layers?): put a "
                   "ReLU after the hidden layer.")
    with c.step("decoder returns unbounded logits"):
        if bool((logits >= 0).all()) or bool((logits <= 0).all()):
            c.fail("decode(z, y) returns values of one sign only (a sigmoid or ReLU after the "
                   "last layer?): it returns logits, any real number (the loss applies the "
                   "sigmoid); end the decoder with a plain nn.Linear.")
        far = as_tensor(c, c.call(model.decode, 100 * z, y, name="CVAE.decode"), "decode")
        if bool((far.abs() <= 1).all()) and (far.abs() > 0.99).float().mean().item() > 0.5:
            c.fail("decode(z, y) saturates at ±1 for |z| ~ 100 (a tanh after the last "
                   "layer?): logits take any real value; end the decoder with a plain "
                   "nn.Linear.")
    with c.step("gradients reach the weights and z"), torch.enable_grad():
        enc = c.call(model.encode, x, y, name="CVAE.encode")
        for name, t in zip(("mu", "logvar"), enc):
            if not (isinstance(t, torch.Tensor) and t.requires_grad):
                c.fail(f"encode's {name} carries no gradient to the encoder's weights: {NO_GRAPH} "
                       "(nn.Linear layers on x and one_hot(y)).")
        z_leaf = z.clone().requires_grad_(True)
        out = as_tensor(c, c.call(model.decode, z_leaf.clone(), y, name="CVAE.decode"),
                        "decode(z, y)")
        if not out.requires_grad:
            c.fail(f"decode(z, y) carries no gradient: {NO_GRAPH} (nn.Linear layers on z and "
                   "one_hot(y)).")
        (grad_z,) = torch.autograd.grad(out.sum(), z_leaf, allow_unused=True)
        if grad_z is None or not bool(grad_z.abs().sum() > 0):
            c.fail("no gradient reaches z through decode(z, y): z is detached (z.detach(), "
                   ".data or NumPy) before the decoder; the encoder learns from the "
                   "reconstruction only through this gradient.")
    _check_forward(c, model, latent)
    c.passed()


def _check_forward(c: Checker, model, latent: int) -> None:
    """Steps 7 and 8: forward's wiring, then the distribution of the z it decodes."""
    __tracebackhide__ = True
    g = torch.Generator().manual_seed(2)
    batch = _DRAW_BATCH
    x = torch.rand(batch, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    mu = 2 * torch.randn(batch, latent, generator=g)
    low = torch.arange(batch * latent).view(batch, latent) % 2 == 0
    logvar = torch.where(low, -2.5 + 2 * torch.rand(batch, latent, generator=g),
                         0.5 + 1.5 * torch.rand(batch, latent, generator=g))
    calls = {"encode": 0, "decode": []}
    real_decode = model.decode
    encoded = {"mu": mu, "logvar": logvar}             # what the stubbed encoder returns

    def fixed_encode(*args, **kwargs):
        calls["encode"] += 1
        return encoded["mu"].clone(), encoded["logvar"].clone()

    def recording_decode(*args, **kwargs):
        try:
            z_, y_ = list(inspect.signature(real_decode).bind(*args, **kwargs)
                          .arguments.values())[:2]
        except (TypeError, ValueError):
            z_, y_ = (list(args) + list(kwargs.values()) + [None, None])[:2]
        out = real_decode(*args, **kwargs)
        calls["decode"].append((z_, y_, out))
        return out

    def run_forward():
        """forward(x, y) with the stubs: (its output, the z and labels it decoded)."""
        __tracebackhide__ = True
        calls["encode"], calls["decode"] = 0, []
        out = c.call(model, x, y, name="CVAE.forward")
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            c.fail("forward(x, y) must return (logits, mu, logvar).")
        if calls["encode"] == 0 or not calls["decode"]:
            c.fail(f"forward must call self.encode(x, y) and self.decode(z, y) (it called them "
                   f"{calls['encode']} and {len(calls['decode'])} times).")
        for z_, y_, decoded in reversed(calls["decode"]):
            if isinstance(out[0], torch.Tensor) and (out[0] is decoded or close(out[0], decoded)):
                return out, z_, y_
        c.fail("forward must return the logits of self.decode(z, y) as its first value.")

    model.encode, model.decode = fixed_encode, recording_decode  # instance attributes
    try:
        with c.step("forward wires encode, sampling and decode"):
            out, z, y_seen = run_forward()
            if not (close(out[1], mu) and close(out[2], logvar)):
                c.fail("forward's mu and logvar differ from encode(x, y); return the "
                       "encoder's output.")
            if not isinstance(y_seen, torch.Tensor) or y_seen.shape != y.shape \
                    or not bool((y_seen == y).all()):
                c.fail("forward decodes with other labels than the input's: pass the labels "
                       "y through, decode(z, y).")
            if not isinstance(z, torch.Tensor) or tuple(z.shape) != (batch, latent):
                c.fail(f"the z given to decode has shape {tuple(getattr(z, 'shape', ()))}, "
                       f"expected ({batch}, {latent}) = (batch, latent_dim).")
        with c.step("z ~ N(mu, sigma^2), new noise for every call"):
            draws = [z.detach().clone()]
            for _ in range(_DRAW_CALLS - 1):
                draws.append(run_forward()[1].detach().clone())
            if bool((draws[0] == draws[1]).all()) and not bool((draws[0] == mu).all()):
                c.fail("forward draws the same z on every call: draw new noise each time "
                       "(eps = torch.randn_like(mu)), without reseeding.")
            _check_sampling(c, torch.stack(draws).to(F64), mu.to(F64), logvar.to(F64))
        with c.step("the sample passes gradients to mu and logvar"), torch.enable_grad():
            _check_sample_gradients(c, run_forward, real_decode, encoded, mu, logvar, y)
    finally:
        del model.encode, model.decode


def _check_sample_gradients(c: Checker, run_forward, real_decode, encoded, mu, logvar, y):
    """Autograd's gradient of forward's logits with respect to the encoder's mu and logvar
    must be the reparameterised sample's: d/dmu = dL/dz and d/dlogvar = dL/dz * (z - mu) / 2,
    at ordinary values and at logvar = ±25 (where a clamp shows)."""
    __tracebackhide__ = True
    extreme = torch.zeros_like(logvar, dtype=torch.bool)
    extreme[:_EXTREME_ROWS] = True
    sign = torch.where(torch.arange(len(mu))[:, None] % 2 == 0, 1.0, -1.0)
    mu_leaf = torch.where(extreme, 0.0, mu).requires_grad_(True)
    logvar_leaf = torch.where(extreme, sign * _EXTREME_LOGVAR, logvar).requires_grad_(True)
    encoded["mu"], encoded["logvar"] = mu_leaf, logvar_leaf
    try:
        out, z, _ = run_forward()
    finally:
        encoded["mu"], encoded["logvar"] = mu, logvar
    logits = as_tensor(c, out[0], "forward's logits")
    if not (isinstance(z, torch.Tensor) and z.requires_grad):
        c.fail("the sample z carries no gradient to mu and logvar: torch.normal(mu, sigma) and "
               "Normal(mu, sigma).sample() are not differentiable, and .detach() cuts the graph; "
               "reparameterise: z = mu + exp(0.5 * logvar) * torch.randn_like(mu) (or "
               "Normal(...).rsample()).")
    weights = torch.rand(logits.shape, generator=torch.Generator().manual_seed(3)) + 0.5
    got_mu, got_logvar = torch.autograd.grad((weights * logits).sum(), [mu_leaf, logvar_leaf],
                                             allow_unused=True)
    z_ref = z.detach().clone().requires_grad_(True)
    (grad_z,) = torch.autograd.grad((weights * real_decode(z_ref, y)).sum(), z_ref)
    want_mu, want_logvar = grad_z, grad_z * 0.5 * (z.detach() - mu_leaf.detach())
    got_mu = torch.zeros_like(want_mu) if got_mu is None else got_mu
    got_logvar = torch.zeros_like(want_logvar) if got_logvar is None else got_logvar

    def zero(t):
        return bool((t == 0).all())

    if zero(got_mu) and zero(got_logvar):
        c.fail("no gradient reaches mu or logvar through the sample: z is built from detached "
               "values (torch.normal and .sample() are not differentiable either); "
               "z = mu + exp(0.5 * logvar) * torch.randn_like(mu).")
    if zero(got_mu):
        c.fail("mu is detached in the sample: no gradient reaches mu through z, so the "
               "reconstruction cannot move the encoder's means; z = mu + sigma * eps with mu "
               "itself (no .detach()).")
    ordinary = ~extreme
    if zero(got_logvar[ordinary]):
        c.fail("logvar (or sigma) is detached in the sample: no gradient reaches logvar through "
               "z; z = mu + exp(0.5 * logvar) * eps with logvar itself (no .detach()).")
    if close(got_mu[ordinary], want_mu[ordinary]) and \
            close(got_logvar[ordinary], want_logvar[ordinary]) and \
            not (close(got_mu, want_mu) and close(got_logvar, want_logvar)):
        c.fail("the sample clamps logvar (or sigma): at logvar = ±25 z no longer follows "
               "exp(0.5 * logvar) and its gradient is cut; draw z = mu + exp(0.5 * logvar) * eps "
               "with the encoder's logvar as it is (no clamp, no bound in the draw).")
    if not close(got_mu, want_mu):
        c.fail("the gradient of the logits with respect to mu is not the one of z = mu + sigma "
               f"* eps ({compare(got_mu, want_mu)}): is mu scaled, or is eps computed from mu?")
    if not close(got_logvar, want_logvar):
        c.fail("the gradient with respect to logvar is not the one of z = mu + exp(0.5 * "
               f"logvar) * eps ({compare(got_logvar, want_logvar)}): eps must not depend on mu "
               "or logvar, and sigma = exp(0.5 * logvar).")
