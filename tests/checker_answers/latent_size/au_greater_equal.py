"""Counts variance >= threshold instead of strictly above."""
EXPECT = "fail"
MISTAKE = "threshold comparison >= instead of >"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.var(dim=0, unbiased=False)
    return int((variance >= threshold).sum())
