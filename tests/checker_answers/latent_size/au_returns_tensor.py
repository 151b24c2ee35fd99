"""Returns the 0-d tensor count, not an int."""
EXPECT = "fail"
MISTAKE = "types: returns a 0-d tensor"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.var(dim=0, unbiased=False)
    return (variance > threshold).sum()
