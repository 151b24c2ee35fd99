"""Passes (x, logits) in the wrong order."""
EXPECT = "fail"
MISTAKE = "arguments of BCE swapped"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    return F.binary_cross_entropy_with_logits(x, logits, reduction="none").flatten(1).sum(1)
