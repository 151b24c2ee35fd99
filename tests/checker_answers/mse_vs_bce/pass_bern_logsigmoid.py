"""-(x logsigmoid(l) + (1-x) logsigmoid(-l))."""
EXPECT = "pass"
MISTAKE = ""

import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats."""
    return -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).flatten(1).sum(1)
