"""log(1 + exp(l)) - x*l."""
EXPECT = "fail"
MISTAKE = "overflow in float32"

import math

import numpy as np
import torch
import torch.nn.functional as F


def bernoulli_recon(logits, x):
    return (torch.log(1 + torch.exp(logits)) - x * logits).flatten(1).sum(1)
