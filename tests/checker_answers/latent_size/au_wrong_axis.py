"""Takes the variance over dim=1 (per image, across dimensions)."""
EXPECT = "fail"
MISTAKE = "variance over the wrong axis"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.var(dim=1, unbiased=False)
    return int((variance > threshold).sum())
