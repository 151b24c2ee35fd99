"""softplus(l) - x*l."""
EXPECT = "pass"
MISTAKE = ""

import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats."""
    return (F.softplus(logits) - x * logits).reshape(logits.shape[0], -1).sum(-1)
