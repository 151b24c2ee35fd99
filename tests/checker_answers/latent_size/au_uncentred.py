"""Uses the mean of mu^2 (not centred) as the variance."""
EXPECT = "fail"
MISTAKE = "second moment instead of variance"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.pow(2).mean(dim=0)
    return int((variance > threshold).sum())
