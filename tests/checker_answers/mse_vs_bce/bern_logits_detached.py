"""Detaches the logits."""
EXPECT = "fail"
MISTAKE = "no gradient: logits detached"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    return F.binary_cross_entropy_with_logits(logits.detach(), x, reduction="none").flatten(1).sum(1)
