"""numpy's var (ddof=0 by default)."""
EXPECT = "pass"
MISTAKE = ""

import numpy as np


def count_active_units(mu, threshold=0.01):
    """Number of active latent dimensions."""
    m = mu.detach().cpu().numpy()
    return int(np.sum(m.var(axis=0) > threshold))
