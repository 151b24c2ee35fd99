"""F.gaussian_nll_loss with full=True and reduction='none'."""
EXPECT = "pass"
MISTAKE = ""

import torch
import torch.nn.functional as F


def gaussian_recon(mean, x, log_sigma):
    """-log N(x | mean, sigma^2) per image, nats."""
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    var = torch.exp(2 * log_sigma).expand_as(mean)
    nll = F.gaussian_nll_loss(mean, x, var, full=True, eps=1e-12, reduction="none")
    return nll.reshape(nll.shape[0], -1).sum(1)
