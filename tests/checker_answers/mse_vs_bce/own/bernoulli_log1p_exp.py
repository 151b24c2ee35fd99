"""-(x*l - log1p(exp(l))), exact in float64, inf in float32 at l = 100."""
EXPECT = "fail"
MISTAKE = "overflow in float32"

import math

import numpy as np
import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    return -(x * logits - torch.log1p(torch.exp(logits))).flatten(1).sum(1)
