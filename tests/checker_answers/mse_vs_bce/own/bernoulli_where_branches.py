"""A two-branch stable form with torch.where: right value, NaN gradient."""
EXPECT = "fail"
MISTAKE = "NaN gradient at large logits"

import math

import numpy as np
import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    sp = torch.where(logits > 0, logits + torch.log1p(torch.exp(-logits)), torch.log1p(torch.exp(logits)))
    return (sp - x * logits).flatten(1).sum(1)
