"""Writes log1p(exp(l)) - x*l, which overflows in float32 at large logits."""
EXPECT = "fail"
MISTAKE = "numerics: log1p(exp(l)) overflows"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    return (torch.log1p(torch.exp(logits)) - x * logits).flatten(1).sum(1)
