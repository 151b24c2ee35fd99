"""torch.distributions.Bernoulli(logits=...).log_prob (validation off for grey levels)."""
EXPECT = "pass"
MISTAKE = ""

from torch.distributions import Bernoulli


def bernoulli_recon(logits, x):
    """-log Bernoulli(x | sigmoid(logits)) per image, nats."""
    return -Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(dim=tuple(range(1, x.dim())))
