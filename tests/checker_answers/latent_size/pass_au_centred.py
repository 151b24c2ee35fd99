"""Centres mu by hand and averages the squares."""
EXPECT = "pass"
MISTAKE = ""

def count_active_units(mu, threshold=0.01):
    """Number of active latent dimensions."""
    centred = mu - mu.mean(dim=0, keepdim=True)
    variance = (centred ** 2).mean(dim=0)
    return int((variance > threshold).sum().item())
