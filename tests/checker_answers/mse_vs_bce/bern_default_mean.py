"""Keeps the default reduction: one mean over batch and pixels."""
EXPECT = "fail"
MISTAKE = "reduction: default mean"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    return F.binary_cross_entropy_with_logits(logits, x)
