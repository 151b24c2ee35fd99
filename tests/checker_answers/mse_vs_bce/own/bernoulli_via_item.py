"""Rebuilds the result from Python floats."""
EXPECT = "fail"
MISTAKE = "no gradient: .item()"

import math

import numpy as np
import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction='none').flatten(1).sum(1)
    return torch.tensor([v.item() for v in nll], dtype=logits.dtype)
