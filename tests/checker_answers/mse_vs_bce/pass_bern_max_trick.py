"""max(l, 0) - l*x + log1p(exp(-|l|))."""
EXPECT = "pass"
MISTAKE = ""

import torch


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats."""
    per_pixel = torch.relu(logits) - logits * x + torch.log1p(torch.exp(-torch.abs(logits)))
    return per_pixel.flatten(start_dim=1).sum(dim=1)
