"""Applies sigmoid, then F.binary_cross_entropy (log clamped at -100, wrong at large logits)."""
EXPECT = "fail"
MISTAKE = "numerics: BCE on sigmoid probabilities"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    return F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
