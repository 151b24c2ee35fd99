"""Rate first; noise drawn with the input's dtype and device; log-sigmoid cross-entropy."""
EXPECT = "pass"
MISTAKE = ""

import torch
import torch.nn.functional as F


def rate_distortion(model, x):
    """Mean rate and distortion, nats per image."""
    mu, logvar = model.encode(x)
    rate = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(dim=1).mean()
    eps = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device)
    logits = model.decode(mu + eps * torch.exp(logvar / 2))
    nll = -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits))
    distortion = nll.sum(dim=tuple(range(1, x.dim()))).mean()
    return rate, distortion
