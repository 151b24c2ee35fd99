"""Returns the log-likelihood (x log p + (1-x) log(1-p)) without the minus."""
EXPECT = "fail"
MISTAKE = "sign flipped (log-likelihood, not NLL)"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).flatten(1).sum(1)
