"""Hard-codes 0.01 instead of using the threshold argument."""
EXPECT = "fail"
MISTAKE = "threshold argument ignored"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.var(dim=0, unbiased=False)
    return int((variance > 0.01).sum())
