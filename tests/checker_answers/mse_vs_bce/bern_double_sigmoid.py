"""Passes sigmoid(logits) to binary_cross_entropy_with_logits (sigmoid applied twice)."""
EXPECT = "fail"
MISTAKE = "probabilities passed as logits"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    return F.binary_cross_entropy_with_logits(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
