"""Returns the fraction of active dimensions instead of their number."""
EXPECT = "fail"
MISTAKE = "fraction instead of count"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.var(dim=0, unbiased=False)
    return float((variance > threshold).float().mean())
