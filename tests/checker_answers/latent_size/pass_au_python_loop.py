"""Counts with a Python generator over the per-dimension variances."""
EXPECT = "pass"
MISTAKE = ""

def count_active_units(mu, threshold=0.01):
    """Number of active latent dimensions."""
    variances = mu.var(dim=0, correction=0).tolist()
    return sum(1 for v in variances if v > threshold)
