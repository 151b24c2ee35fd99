"""log(p + 1e-8): the loss saturates near 18 nats at large logits."""
EXPECT = "fail"
MISTAKE = "numerics: epsilon inside the log"

import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats. (batch, 1, 28, 28) -> (batch,)."""
    p = torch.sigmoid(logits)
    return -(x * torch.log(p + 1e-8) + (1 - x) * torch.log(1 - p + 1e-8)).flatten(1).sum(1)
