"""The classic stable form max(l,0) - l*x + log1p(exp(-|l|)); KL per dim then summed."""
EXPECT = "pass"
MISTAKE = ""

import torch


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats."""
    per_pixel = logits.clamp(min=0) - logits * x + torch.log1p(torch.exp(-logits.abs()))
    recon = per_pixel.view(per_pixel.shape[0], -1).sum(dim=1)
    kl_per_dim = -0.5 * (1 + logvar - mu.square() - torch.exp(logvar))
    kl = kl_per_dim.sum(dim=-1)
    return {"loss": recon + float(beta) * kl, "recon": recon, "kl": kl}
