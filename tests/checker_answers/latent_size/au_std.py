"""Compares the standard deviation, not the variance, with the threshold."""
EXPECT = "fail"
MISTAKE = "std instead of variance"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.std(dim=0, unbiased=False)
    return int((variance > threshold).sum())
