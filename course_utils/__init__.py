"""course_utils: the small helper package behind the VAE course.

One module per concern, each importing only the ones listed before it:

* ``_validate`` -- (private) the argument checks behind every public function: a bad argument
  raises one error naming it, what it got and what to pass instead.
* ``runtime`` -- device, seeding, run profile (``budget``), a description of the machine.
* ``book`` -- ``glue``: a run's numbers for the prose of the book (myst-nb glue).
* ``datasets`` -- what every loader shares: ``Split``, ``Dataset``, ``DataNotFoundError``,
  the data folder and the download switch.
* ``faces`` -- CelebA (with its attributes) and the LFW stand-in as tensors.
* ``data`` -- MNIST / Fashion-MNIST as tensors, a fast batch iterator, and the one place
  notebooks import data from (it re-exports ``datasets``' names and ``faces``' loaders:
  ``data.Split``, ``data.load_celeba``, ``data.load_faces``).
* ``losses`` -- per-example negative log-likelihoods and KL terms, in nats (and ``LOG_2PI``).
* ``models`` -- the autoencoder and VAEs later chapters import, ``eval_mode``.
* ``train`` -- one ``fit`` loop and ``evaluate``, with a ``History``.
* ``metrics`` -- IWAE bound, ELBO, active units, KL per dimension, codebook usage.
* ``viz`` -- figures (image grids, latent scatters, training curves).
* ``widgets`` -- ipywidgets latent explorers for a live notebook.
* ``explorer`` -- a trained decoder exported for the book's in-page latent explorers
  (``_static/latent_explorer.js`` runs it in the browser).
* ``checks`` -- the exercises' answer checkers (a package: harness + one module per exercise).

Only ``runtime``'s helpers and ``glue`` are re-exported here; import the others as modules
(``from course_utils import losses, models``).
"""
from .runtime import budget, describe, get_device, print_setup, profile, seed_everything
from .book import glue

__all__ = ["budget", "describe", "get_device", "glue", "print_setup", "profile", "seed_everything"]
__version__ = "0.1.0"
