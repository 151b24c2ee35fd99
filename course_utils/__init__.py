"""course_utils: the small helper package behind the VAE course.

One module per concern: ``runtime`` (device, seeding, run profile), ``data`` (data sets as
tensors and a fast batch iterator), ``losses`` (per-example negative log-likelihoods and
KL terms, in nats), ``models``, ``train`` (one ``fit`` loop), ``viz`` (figures).
"""
from .runtime import budget, describe, get_device, print_setup, profile, seed_everything

__all__ = ["budget", "describe", "get_device", "print_setup", "profile", "seed_everything"]
__version__ = "0.1.0"
