"""Uses torch's default var (divides by N - 1)."""
EXPECT = "fail"
MISTAKE = "variance divides by N-1"

def count_active_units(mu, threshold=0.01):
    """Number of latent dimensions whose posterior mean varies over the data by more than threshold."""
    variance = mu.var(dim=0)
    return int((variance > threshold).sum())
