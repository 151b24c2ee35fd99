"""Cross-entropy with log-sigmoids, KL rearranged, reshape instead of flatten."""
EXPECT = "pass"
MISTAKE = ""

import torch.nn.functional as F


def beta_vae_loss(logits, x, mu, logvar, beta=1.0):
    """β-VAE loss terms per image, in nats."""
    recon = -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).reshape(len(x), -1).sum(-1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1)
    loss = recon + beta * kl
    return dict(loss=loss, recon=recon, kl=kl)
