"""Right: torch.logaddexp(0, l) - x * l."""
EXPECT = "pass"
MISTAKE = "none"

import math

import numpy as np
import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    return (torch.logaddexp(torch.zeros_like(logits), logits) - x * logits).flatten(1).sum(1)
