"""Bad input gets one clear error, never a plausible wrong number (issue 19).

One table, one row per bad input: the call, the exception it must raise, and a regular
expression the message must match. Every public function of the package's modules (runtime,
data, faces, losses, models, train, metrics, viz, widgets) has rows, the inputs people
really pass: a float where a whole number goes, a NumPy array where a tensor goes, integer
pixels, logits where probabilities go, an empty batch, NaN, a limit of -1, an optimiser
that trains nothing... The message must name the argument and what it got (the regex
checks both), so that it says what to pass instead; a traceback from deep inside torch, or
a result, fails the row.

Each call is a lambda, so that nothing runs at import time; the small fixtures it uses are
built on first use.
"""
from __future__ import annotations

import atexit
import functools
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils import data, losses, metrics, models, train, viz, widgets

# --- small fixtures, built on first use -------------------------------------------------------


@functools.lru_cache(maxsize=None)
def split(n=8):
    gen = torch.Generator().manual_seed(0)
    return data.Split(torch.rand(n, 1, 28, 28, generator=gen), torch.arange(n) % 10)


def vae():
    torch.manual_seed(0)
    return models.MLPVAE(latent_dim=2, hidden_dim=8)


def codes(n=6, d=3):
    gen = torch.Generator().manual_seed(0)
    return torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen) - 1


def images(n=2, c=1, h=4, w=4):
    return torch.full((n, c, h, w), 0.5)


def fsq():
    return models.FSQ([8, 5, 5, 5])


class Env:
    """Call ``fn`` with environment variables set (and restored)."""

    def __init__(self, **values):
        self.values = values

    def __call__(self, fn):
        old = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)
        try:
            return fn()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@functools.lru_cache(maxsize=None)
def celeba_folder(kind: str) -> Path:
    """A tiny CelebA in a temporary folder: ``"whole"`` (with its partition file),
    ``"subset"`` (images 1-6, no partition file: all of them are train images)."""
    from PIL import Image
    root = temporary_folder()
    folder = root / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    names = [f"{k:06d}.jpg" for k in range(1, 7)]
    for name in names:
        Image.fromarray(np.full((218, 178, 3), 128, np.uint8)).save(folder / name)
    attr = ["6", "Smiling Young"] + [f"{name} 1 -1" for name in names]
    (root / "celeba" / "list_attr_celeba.txt").write_text("\n".join(attr) + "\n")
    if kind == "whole":
        (root / "celeba" / "list_eval_partition.txt").write_text(
            "".join(f"{name} {p}\n" for name, p in zip(names, [0, 0, 0, 1, 2, 2])))
    return root


def temporary_folder() -> Path:
    """A new empty folder, removed when the tests end."""
    root = Path(tempfile.mkdtemp(prefix="bad-inputs-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def kaggle_folder_without_attributes() -> Path:
    """Kaggle's CelebA layout (images one folder deeper) with its attribute file missing."""
    root = temporary_folder()
    (root / "celeba" / "img_align_celeba" / "img_align_celeba").mkdir(parents=True)
    return root


def fit(**kwargs):
    args = {"model": vae(), "loss_fn": losses.vae_loss, "train": split(), "epochs": 1,
            "device": "cpu", **kwargs}
    return train.fit(args.pop("model"), args.pop("loss_fn"), args.pop("train"), **args)


def history():
    h = train.History()
    h.train["loss"], h.test["loss"], h.seconds = [3.0, 2.0], [3.5, 2.5], [0.1, 0.1]
    return h


# --- the table --------------------------------------------------------------------------------
# (id, call, exception, regex on the message)

V, T = ValueError, TypeError
NAN = float("nan")

CASES = [
    # runtime
    ("seed_everything seed=2**70", lambda: cu.seed_everything(2**70), V,
     r"seed must be a whole number from 0 to 18446744073709551615, got 1180591620717411303424"),
    ("seed_everything seed=-1", lambda: cu.seed_everything(-1), V, r"seed must be .* got -1"),
    ("seed_everything seed=1.5", lambda: cu.seed_everything(1.5), T, r"seed .*got 1.5; convert"),
    ("seed_everything seed='0'", lambda: cu.seed_everything("0"), T, r"seed .*got '0'"),
    ("seed_everything threads=0", lambda: cu.seed_everything(0, threads=0), V,
     r"threads must be a whole number >= 1 .*got 0"),
    ("print_setup seed=None", lambda: cu.print_setup(None), T, r"seed must be .*got None"),
    ("describe device='gpu'", lambda: cu.describe("gpu"), V,
     r"device='gpu' is not a device: use 'cpu', 'cuda'"),
    ("describe device=0.5", lambda: cu.describe(0.5), T, r"device must be a torch.device .*got 0.5"),
    ("profile COURSE_PROFILE=fast", lambda: Env(COURSE_PROFILE="fast")(cu.profile), V,
     r"COURSE_PROFILE='fast' is not a run profile; use one of smoke, standard, full"),
    ("budget COURSE_PROFILE=quick", lambda: Env(COURSE_PROFILE="quick")(
        lambda: cu.budget(full=1, standard=2, smoke=3)), V, r"COURSE_PROFILE='quick'"),
    ("budget positional", lambda: cu.budget(1, 2, 3), T, r"positional"),
    ("default_threads COURSE_THREADS=two",
     lambda: Env(COURSE_THREADS="two")(cu.runtime.default_threads), V,
     r"COURSE_THREADS must be a positive integer, got 'two'"),

    # data: Split, Dataset, batches, data_root, loaders
    ("Split uint8 pixels", lambda: data.Split(torch.zeros(2, 1, 4, 4, dtype=torch.uint8),
                                               torch.zeros(2, dtype=torch.long)), V,
     r"got dtype torch.uint8; scale 0..255 pixels .* x.float\(\) / 255"),
    ("Split pixels 0..255 as float", lambda: data.Split(torch.full((2, 1, 4, 4), 255.0),
                                                         torch.zeros(2, dtype=torch.long)), V,
     r"values in \[0, 1\], got values from 255 to 255"),
    ("Split NaN pixels", lambda: data.Split(torch.full((2, 1, 4, 4), NAN),
                                            torch.zeros(2, dtype=torch.long)), V,
     r"Split images hold 32 NaN value"),
    ("Split numpy x", lambda: data.Split(np.zeros((2, 1, 4, 4), np.float32),
                                         torch.zeros(2, dtype=torch.long)), T,
     r"Split's x must be a torch.Tensor .*NumPy array .*torch.from_numpy"),
    ("Split float labels", lambda: data.Split(images(), torch.zeros(2)), V,
     r"Split's y must be \(N,\) integer class labels, got a tensor of shape \(2,\) and dtype "
     r"torch.float32"),
    ("Split lengths differ", lambda: data.Split(images(3), torch.zeros(2, dtype=torch.long)), V,
     r"x has 3 examples but y has 2"),
    ("Split.head(-1)", lambda: split().head(-1), V, r"n must be a whole number >= 0 .*got -1"),
    ("Split.head(2.5)", lambda: split().head(2.5), T, r"n must be a whole number .*got 2.5"),
    ("Dataset with a tensor as train", lambda: data.Dataset("x", "y", images(), split(), []), T,
     r"Dataset's train must be a Split, got a tensor"),
    ("data_root root=5", lambda: data.data_root(5), T,
     r"root must be a folder \(a str or a pathlib.Path\), got 5"),
    ("download_allowed COURSE_DOWNLOAD=maybe",
     lambda: Env(COURSE_DOWNLOAD="maybe")(data.download_allowed), V,
     r"COURSE_DOWNLOAD='maybe' is not understood"),
    ("batches batch_size=0", lambda: data.batches(torch.zeros(4), batch_size=0), V,
     r"batch_size must be a whole number >= 1 \(examples per batch\), got 0"),
    ("batches batch_size=2.5", lambda: data.batches(torch.zeros(4), batch_size=2.5), T,
     r"batch_size .*got 2.5; convert it: batch_size=int"),
    ("batches numpy array", lambda: data.batches(np.zeros(4), batch_size=2), T,
     r"argument 1 is a NumPy array .*torch.from_numpy"),
    ("batches lengths differ", lambda: data.batches(torch.zeros(4), torch.zeros(3),
                                                    batch_size=2), V,
     r"same first dimension, got \[\(4,\), \(3,\)\]"),
    ("batches shuffle='yes'", lambda: data.batches(torch.zeros(4), batch_size=2,
                                                   shuffle="yes"), T,
     r"shuffle must be True or False, got 'yes'"),
    ("batches generator=0", lambda: data.batches(torch.zeros(4), batch_size=2, generator=0), T,
     r"generator must be a torch.Generator or None, got 0"),
    ("batches no tensors", lambda: data.batches(batch_size=2), V, r"at least one tensor"),
    ("load_mnist limit_train=-1", lambda: data.load_mnist(limit_train=-1), V,
     r"limit_train must be a whole number >= 1 .*None keeps them all.*got -1"),
    ("load_mnist limit_test=0", lambda: data.load_mnist(limit_test=0), V,
     r"limit_test must be a whole number >= 1 .*got 0"),
    ("load_mnist limit_train=1000.0", lambda: data.load_mnist(limit_train=1000.0), T,
     r"limit_train .*got 1000.0; convert it"),
    ("load_mnist download='no'", lambda: data.load_mnist(download="no"), T,
     r"download must be True, False or None .*got 'no'"),
    ("load_fashion_mnist root=3.0", lambda: data.load_fashion_mnist(root=3.0), T,
     r"root must be a folder .*got 3.0"),
    ("load_fashion_mnist verbose=1", lambda: data.load_fashion_mnist(verbose=1), T,
     r"verbose must be True or False, got 1"),
    ("load_fashion_mnist limit_train='all'", lambda: data.load_fashion_mnist(limit_train="all"),
     T, r"limit_train .*got 'all'; pass a number"),

    # faces
    ("load_celeba size=0", lambda: data.load_celeba(0), V,
     r"size must be a whole number >= 1 \(output height and width in pixels, e.g. 64\), got 0"),
    ("load_celeba size=32.5", lambda: data.load_celeba(32.5), T,
     r"size .*got 32.5; convert it: size=int"),
    ("load_celeba limit_train=-1", lambda: data.load_celeba(root=celeba_folder("whole"),
                                                            limit_train=-1), V,
     r"limit_train must be a whole number >= 1 .*got -1"),
    ("load_celeba limit_test=2.0", lambda: data.load_celeba(limit_test=2.0), T,
     r"limit_test .*got 2.0"),
    ("load_celeba crop=0", lambda: data.load_celeba(crop=0), V, r"crop must be a whole number"
                                                                r" >= 1 .*got 0"),
    ("load_celeba crop larger than the images",
     lambda: data.load_celeba(8, root=celeba_folder("whole"), crop=300, workers=1,
                              verbose=False), V,
     r"crop=300 is larger than CelebA's images \(178 x 218 pixels.*pad them with black"),
    ("load_celeba subset without a partition file",
     lambda: data.load_celeba(8, root=celeba_folder("subset"), workers=1, verbose=False),
     data.DataNotFoundError, r"CelebA's test split is empty: none of the 6 images is in it by "
                             r"the official numbering \(there is no list_eval_partition.txt"),
    ("load_celeba Kaggle folder without its attribute file",
     lambda: data.load_celeba(root=kaggle_folder_without_attributes(), download=False),
     data.DataNotFoundError, r"holds neither layout: img_align_celeba/\*\.jpg with "
                             r"list_attr_celeba.txt or img_align_celeba/img_align_celeba/\*\.jpg "
                             r"with list_attr_celeba.csv"),
    ("load_celeba path=5", lambda: data.load_celeba(path=5, download=False), T,
     r"path must be a folder .*got 5"),
    ("load_celeba workers=0", lambda: data.load_celeba(workers=0), V,
     r"workers must be a whole number >= 1"),
    ("load_celeba download='yes'", lambda: data.load_celeba(download="yes"), T,
     r"download must be True, False or None"),
    ("load_lfw_faces size=0", lambda: data.load_lfw_faces(0), V, r"size must be .*got 0"),
    ("load_lfw_faces size=32.5", lambda: data.load_lfw_faces(32.5), T, r"size .*got 32.5"),
    ("load_lfw_faces n_test=100", lambda: data.load_lfw_faces(n_test=100), V,
     r"n_test must be a whole number from 1 to 99 .*got 100"),
    ("load_lfw_faces n_test=20.0", lambda: data.load_lfw_faces(n_test=20.0), T,
     r"n_test .*got 20.0"),
    ("load_faces stand_in_size=-32", lambda: data.load_faces(stand_in_size=-32), V,
     r"stand_in_size must be a whole number >= 1 .*got -32"),
    ("load_faces limit_train=-1", lambda: data.load_faces(limit_train=-1), V,
     r"limit_train must be .*got -1"),

    # losses
    ("bernoulli_nll integer logits", lambda: losses.bernoulli_nll(
        torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 4)), T,
     r"logits must be a floating-point tensor, got dtype torch.int64; convert it first: "
     r"logits.float\(\)"),
    ("bernoulli_nll x uint8 0..255", lambda: losses.bernoulli_nll(
        torch.zeros(2, 4), torch.full((2, 4), 255, dtype=torch.uint8)), V,
     r"x must hold pixel values in \[0, 1\].*values from 255 to 255"),
    ("bernoulli_nll numpy logits", lambda: losses.bernoulli_nll(np.zeros((2, 4)),
                                                                torch.zeros(2, 4)), T,
     r"logits must be a torch.Tensor, got a NumPy array"),
    ("bernoulli_nll shapes differ", lambda: losses.bernoulli_nll(torch.zeros(2, 4),
                                                                 torch.zeros(2, 5)), V,
     r"logits has shape \(2, 4\) but x has shape \(2, 5\)"),
    ("gaussian_kl integer mu", lambda: losses.gaussian_kl(torch.zeros(2, 3, dtype=torch.long),
                                                          torch.zeros(2, 3)), T,
     r"mu must be a floating-point tensor, got dtype torch.int64"),
    ("gaussian_kl list logvar", lambda: losses.gaussian_kl(torch.zeros(2, 3), [[0.0] * 3] * 2),
     T, r"logvar must be a torch.Tensor, got list"),
    ("gaussian_kl scalar", lambda: losses.gaussian_kl(torch.tensor(0.0), torch.tensor(0.0)), V,
     r"mu needs a batch dimension"),
    ("gaussian_kl_per_dim shapes differ",
     lambda: losses.gaussian_kl_per_dim(torch.zeros(2, 3), torch.zeros(3, 2)), V,
     r"mu has shape \(2, 3\) but logvar has shape \(3, 2\)"),
    ("gaussian_nll integer mean", lambda: losses.gaussian_nll(
        torch.zeros(2, 4, dtype=torch.int32), torch.zeros(2, 4), 0.0), T,
     r"mean must be a floating-point tensor, got dtype torch.int32"),
    ("gaussian_nll log_sigma='0'", lambda: losses.gaussian_nll(torch.zeros(2, 4),
                                                               torch.zeros(2, 4), "0"), T,
     r"log_sigma must be a finite number .*got '0'"),
    ("gaussian_nll log_sigma=nan", lambda: losses.gaussian_nll(torch.zeros(2, 4),
                                                               torch.zeros(2, 4), NAN), V,
     r"log_sigma must be a finite number .*got nan"),
    ("gaussian_nll log_sigma wrong shape", lambda: losses.gaussian_nll(
        torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(3)), V,
     r"log_sigma has shape \(3,\), which does not fit mean of shape \(2, 4\)"),
    ("negative_elbo beta=-1", lambda: losses.negative_elbo(torch.zeros(2), torch.zeros(2), -1),
     V, r"beta must be a finite number >= 0.0 \(the KL weight; 1 is the ELBO\), got -1.0"),
    ("negative_elbo beta='4'", lambda: losses.negative_elbo(torch.zeros(2), torch.zeros(2), "4"),
     T, r"beta must be a finite number .*got '4'"),
    ("negative_elbo beta=inf", lambda: losses.negative_elbo(torch.zeros(2), torch.zeros(2),
                                                            math.inf), V, r"beta .*got inf"),
    ("negative_elbo beta vector", lambda: losses.negative_elbo(torch.zeros(2), torch.zeros(2),
                                                               torch.ones(2)), T,
     r"beta must be a number >= 0 \(the KL weight\), got a tensor of shape \(2,\)"),
    ("vae_loss x uint8", lambda: losses.vae_loss(vae(), torch.zeros(2, 1, 28, 28,
                                                                    dtype=torch.uint8)), T,
     r"x must be a floating-point tensor .*dtype torch.uint8.*x.float\(\) / 255"),
    ("vae_loss arguments swapped", lambda: losses.vae_loss(split().x, vae()), T,
     r"vae_loss's first argument is the model .*got a tensor"),
    ("vae_loss of an autoencoder", lambda: losses.vae_loss(models.MLPAutoencoder(2, 8),
                                                           split().x), V,
     r"use losses.autoencoder_loss"),
    ("autoencoder_loss of a VAE", lambda: losses.autoencoder_loss(vae(), split().x), V,
     r"use losses.vae_loss"),

    # models
    ("MLPVAE latent_dim=0", lambda: models.MLPVAE(latent_dim=0), V,
     r"latent_dim must be a whole number >= 1 \(size of z\), got 0"),
    ("MLPVAE latent_dim=2.5", lambda: models.MLPVAE(latent_dim=2.5), T,
     r"latent_dim .*got 2.5; convert it: latent_dim=int"),
    ("MLPVAE hidden_dim=-400", lambda: models.MLPVAE(hidden_dim=-400), V,
     r"hidden_dim must be a whole number >= 1 .*got -400"),
    ("MLPVAE input_shape=784", lambda: models.MLPVAE(input_shape=784), T,
     r"input_shape must be the images' \(C, H, W\), e.g. \(1, 28, 28\), got 784"),
    ("MLPAutoencoder input_shape with 0", lambda: models.MLPAutoencoder(input_shape=(1, 0, 28)),
     V, r"input_shape .*whole numbers >= 1; got \(1, 0, 28\)"),
    ("MLPAutoencoder latent_dim='2'", lambda: models.MLPAutoencoder(latent_dim="2"), T,
     r"latent_dim .*got '2'"),
    ("ConvVAE input 30x30", lambda: models.ConvVAE(input_shape=(1, 30, 30)), V,
     r"H and W divisible by 4"),
    ("ConvVAE channels=32", lambda: models.ConvVAE(channels=32), V,
     r"channels must name two feature-map counts, e.g. \(32, 64\); got 32"),
    ("ConvVAE latent_dim=None", lambda: models.ConvVAE(latent_dim=None), T,
     r"latent_dim must be a whole number .*got None"),
    ("MLPVAE forward uint8", lambda: vae()(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)), V,
     r"expects floating-point pixels in \[0, 1\], got dtype torch.uint8"),
    ("MLPVAE forward one image without batch", lambda: vae()(torch.rand(1, 28, 28)[0]), V,
     r"got shape \(28, 28\).*a single image needs a batch dimension: x\[None\]"),
    ("MLPVAE forward numpy", lambda: vae()(np.zeros((2, 784), np.float32)), T,
     r"expects a tensor .*got ndarray"),
    ("reparameterize integer mu", lambda: models.GaussianVAE.reparameterize(
        torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3)), T,
     r"mu must be a floating-point tensor"),
    ("reparameterize numpy logvar", lambda: models.GaussianVAE.reparameterize(
        torch.zeros(2, 3), np.zeros((2, 3))), T, r"logvar must be a torch.Tensor"),
    ("sample n=0", lambda: vae().sample(0), V, r"n must be a whole number >= 1 \(images to draw\)"),
    ("sample n=4.0", lambda: vae().sample(4.0), T, r"n must be .*got 4.0"),
    ("sample generator=0", lambda: vae().sample(2, generator=0), T,
     r"generator must be a torch.Generator or None, got 0"),
    ("count_parameters of a function", lambda: models.count_parameters(vae), T,
     r"count_parameters needs a torch.nn.Module, got function"),
    ("FSQ(8)", lambda: models.FSQ(8), T,
     r"levels must be a non-empty list of whole numbers >= 2 .*got 8; for one dimension "
     r"write \[8\]"),
    ("FSQ(None)", lambda: models.FSQ(None), T, r"levels must be a non-empty list .*got None"),
    ("FSQ('855')", lambda: models.FSQ("855"), T, r"levels must be .*got '855'"),
    ("FSQ([2]*64) overflows int64", lambda: models.FSQ([2] * 64), V,
     r"levels \[2, 2, .*\] give 1.84e\+19 codes, more than an int64 index can number"),
    ("FSQ([8, 1])", lambda: models.FSQ([8, 1]), V, r"levels must be .*got \[8, 1\]"),
    ("FSQ([8, 5.5])", lambda: models.FSQ([8, 5.5]), V, r"levels must be .*got \[8, 5.5\]"),
    ("FSQ([])", lambda: models.FSQ([]), V, r"levels must be a non-empty list"),
    ("FSQ eps=1", lambda: models.FSQ([8, 5], eps=1), V, r"eps must satisfy 0 <= eps < 1"),
    ("FSQ eps='small'", lambda: models.FSQ([8, 5], eps="small"), T, r"eps must be a finite "
                                                                     r"number .*got 'small'"),
    ("FSQ forward integer z", lambda: fsq()(torch.zeros(2, 4, dtype=torch.long)), T,
     r"FSQ expects a floating-point tensor z of shape \(..., 4\); got torch.int64"),
    ("FSQ forward channels first", lambda: fsq()(torch.zeros(2, 4, 3, 3)), V,
     r"expects z of shape \(..., 4\) .*got \(2, 4, 3, 3\); put the channel axis last"),
    ("FSQ forward NaN", lambda: fsq()(torch.full((2, 4), NAN)), V, r"z contains NaN"),
    ("FSQ indices_to_codes out of range", lambda: fsq().indices_to_codes(torch.tensor([1000])),
     V, r"indices must lie in \[0, 1000\) for levels \[8, 5, 5, 5\]; found values from 1000"),
    ("FSQ indices_to_codes floats", lambda: fsq().indices_to_codes(torch.tensor([1.0])), T,
     r"indices must be integers, got dtype torch.float32"),
    ("FSQ indices_to_codes dtype=int", lambda: fsq().indices_to_codes(torch.tensor([1]),
                                                                      dtype=torch.int64), T,
     r"dtype must be a floating-point torch dtype .*got dtype torch.int64"),
    ("FSQ codes_to_indices off the grid", lambda: fsq().codes_to_indices(torch.full((1, 4), 3.0)),
     V, r"codes lie outside the FSQ grid"),
    ("FSQ codes_to_indices integer codes",
     lambda: fsq().codes_to_indices(torch.zeros(1, 4, dtype=torch.long)), T,
     r"codes must be a floating-point tensor"),
    ("FSQ implicit_codebook too large", lambda: models.FSQ([2] * 40).implicit_codebook(), V,
     r"has 1,099,511,627,776 codes, too many to list .*indices_to_codes"),

    # train
    ("fit lr=0", lambda: fit(lr=0), V, r"lr must be a finite number > 0.0 \(the learning rate\)"
                                       r", got 0.0"),
    ("fit lr=-1e-3", lambda: fit(lr=-1e-3), V, r"lr must be .*got -0.001"),
    ("fit lr='1e-3'", lambda: fit(lr="1e-3"), T, r"lr must be .*got '1e-3'"),
    ("fit optimizer of another model", lambda: fit(optimizer=torch.optim.Adam(
        vae().parameters())), V, r"the optimizer holds none of the model's trainable parameters"),
    ("fit optimizer with lr=0", lambda: (lambda m: fit(model=m, optimizer=torch.optim.SGD(
        m.parameters(), lr=0.0)))(vae()), V,
     r"the optimizer's learning rate is 0 for every parameter of the model"),
    ("fit optimizer and an lr it ignores", lambda: (lambda m: fit(
        model=m, optimizer=torch.optim.Adam(m.parameters(), lr=1e-3), lr=1e-2))(vae()), V,
     r"lr=0.01 would be ignored: the optimizer sets the learning rate \(now 0.001\)"),
    ("fit optimizer='adam'", lambda: fit(optimizer="adam"), T,
     r"optimizer must be a torch.optim.Optimizer \(or None for Adam\), got 'adam'"),
    ("fit seed=2**70", lambda: fit(seed=2**70), V, r"seed must be a whole number from 0 to"),
    ("fit seed=0.5", lambda: fit(seed=0.5), T, r"seed must be .*got 0.5"),
    ("fit epochs=0", lambda: fit(epochs=0), V, r"epochs must be a whole number >= 1"),
    ("fit epochs=2.0", lambda: fit(epochs=2.0), V, r"epochs .*got 2.0 \(convert it: "
                                                   r"epochs=int\(...\)\)"),
    ("fit batch_size=0", lambda: fit(batch_size=0), V, r"batch_size must be a whole number >= 1"),
    ("fit a Dataset as train", lambda: fit(train=data.Dataset("d", "s", split(), split(), [])),
     T, r"the train split must be a course_utils.data.Split, got Dataset.*train=ds.train"),
    ("fit a tensor as train", lambda: fit(train=split().x), T,
     r"the train split must be a course_utils.data.Split, got a tensor .*data.Split\(x, y\)"),
    ("fit an empty test split", lambda: fit(test=split().head(0)), V,
     r"the test split is empty \(0 examples\)"),
    ("fit model and loss swapped", lambda: fit(model=losses.vae_loss, loss_fn=vae()), T,
     r"model must be a torch.nn.Module, got function"),
    ("fit loss_fn='vae'", lambda: fit(loss_fn="vae"), T,
     r"loss_fn must be a function loss_fn\(model, x, y\) -> dict, got 'vae'"),
    ("fit a model without parameters", lambda: fit(model=torch.nn.Identity()), V,
     r"the model \(Identity\) has no parameters"),
    ("fit device='gpu'", lambda: fit(device="gpu"), V, r"device='gpu' is not a device"),
    ("fit amp='on'", lambda: fit(amp="on"), T, r"amp must be True or False, got 'on'"),
    ("fit on_epoch_end=print()", lambda: fit(on_epoch_end=1), T,
     r"on_epoch_end must be a function \(epoch, history\) or None, got 1"),
    ("fit NaN loss", lambda: fit(loss_fn=lambda m, x, y: {"loss": losses.vae_loss(m, x)["loss"]
                                                          * NAN}), FloatingPointError,
     r"the training loss became nan at epoch 1, step 1. Lower the learning rate \(now 0.001\)"),
    ("fit a loss per batch, not per example", lambda: fit(
        loss_fn=lambda m, x, y: {"loss": losses.vae_loss(m, x)["loss"].mean()}), V,
     r"one loss per example, shape \(batch,\); got shape \(\)"),
    ("evaluate an empty split", lambda: train.evaluate(vae(), losses.vae_loss, split().head(0)),
     V, r"the split split is empty"),
    ("evaluate batch_size=-1", lambda: train.evaluate(vae(), losses.vae_loss, split(),
                                                      batch_size=-1), V,
     r"batch_size must be a whole number >= 1"),
    ("evaluate a tensor", lambda: train.evaluate(vae(), losses.vae_loss, split().x), T,
     r"the split split must be a course_utils.data.Split"),
    ("History.last split='val'", lambda: history().last("val"), V,
     r"split must be 'train' or 'test', got 'val'"),
    ("History.last unknown term", lambda: history().last("test", "kl"), KeyError,
     r"no 'test' values of 'kl' were recorded"),

    # metrics
    ("log_aggregate_posterior empty mu", lambda: metrics.log_aggregate_posterior(
        torch.zeros(3, 2), torch.zeros(0, 2), torch.zeros(0, 2)), V,
     r"mu is empty \(shape \(0, 2\)\): there is nothing to measure"),
    ("log_aggregate_posterior logvar=-800", lambda: metrics.log_aggregate_posterior(
        torch.zeros(3, 2), torch.zeros(4, 2), torch.full((4, 2), -800.0)), V,
     r"logvar goes down to -800: variances below exp\(-700\) underflow"),
    ("log_aggregate_posterior z of another width", lambda: metrics.log_aggregate_posterior(
        torch.zeros(3, 5), *codes()), V, r"z must be \(M, 3\) to match mu \(6, 3\), got \(3, 5\)"),
    ("log_aggregate_posterior NaN z", lambda: metrics.log_aggregate_posterior(
        torch.full((3, 3), NAN), *codes()), V, r"z has NaN or infinite values"),
    ("log_aggregate_posterior chunk_size=0", lambda: metrics.log_aggregate_posterior(
        torch.zeros(3, 3), *codes(), chunk_size=0), V, r"chunk_size must be a positive integer"),
    ("mutual_information numpy", lambda: metrics.mutual_information(
        *(c.numpy() for c in codes())), T,
     r"mu must be a torch.Tensor \(\(N, latent_dim\) posterior parameters.*NumPy array.*"
     r"torch.from_numpy"),
    ("mutual_information one example", lambda: metrics.mutual_information(*codes(1)), V,
     r"need at least 2 examples to form an aggregate posterior, got 1"),
    ("mutual_information integer mu", lambda: metrics.mutual_information(
        torch.zeros(4, 2, dtype=torch.long), torch.zeros(4, 2)), T,
     r"mu must be a floating-point tensor"),
    ("kl_decomposition NaN logvar", lambda: metrics.kl_decomposition(
        codes()[0], torch.full((6, 3), NAN)), V,
     r"logvar has NaN or infinite values in latent dimension\(s\) \[0, 1, 2\]"),
    ("kl_decomposition generator=0", lambda: metrics.kl_decomposition(*codes(), generator=0), T,
     r"generator must be a torch.Generator or None, got 0"),
    ("kl_per_dim 3-D mu", lambda: metrics.kl_per_dim(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4)),
     V, r"mu must be \(N, latent_dim\), got shape \(2, 3, 4\)"),
    ("kl_per_dim empty", lambda: metrics.kl_per_dim(torch.zeros(0, 3), torch.zeros(0, 3)), V,
     r"mu is empty"),
    ("kl_per_dim NaN mu", lambda: metrics.kl_per_dim(torch.full((2, 3), NAN),
                                                     torch.zeros(2, 3)), V,
     r"mu has NaN or infinite values"),
    ("posterior_mean_variance one row", lambda: metrics.posterior_mean_variance(
        torch.zeros(1, 3)), V, r"need at least 2 examples to measure a variance, got 1"),
    ("active_units NaN column", lambda: metrics.active_units(
        torch.cat([torch.zeros(4, 2), torch.full((4, 1), NAN)], 1)), V,
     r"mu has NaN or infinite values in latent dimension\(s\) \[2\]"),
    ("active_units list", lambda: metrics.active_units([[0.0, 1.0], [1.0, 0.0]]), T,
     r"mu must be a torch.Tensor .*got list"),
    ("iwae_nll k=0", lambda: metrics.iwae_nll(vae(), split().x, k=0), V,
     r"k \(importance samples per example\) must be a positive integer, got 0"),
    ("iwae_nll numpy x", lambda: metrics.iwae_nll(vae(), split().x.numpy(), k=2), V,
     r"x must be a tensor of examples"),
    ("iwae_nll empty x", lambda: metrics.iwae_nll(vae(), split().x[:0], k=2), V,
     r"x is empty"),
    ("iwae_nll a model without encode", lambda: metrics.iwae_nll(torch.nn.Linear(2, 2),
                                                                 split().x, k=2), T,
     r"the model needs an encode\(\) method"),
    ("elbo n_samples=2.5", lambda: metrics.elbo(vae(), split().x, n_samples=2.5), V,
     r"n_samples must be a positive integer, got 2.5"),
    ("encode_dataset batch_size=0", lambda: metrics.encode_dataset(vae(), split().x,
                                                                   batch_size=0), V,
     r"batch_size must be a positive integer, got 0"),
    ("codebook_usage float indices", lambda: metrics.codebook_usage(torch.zeros(4), 8), T,
     r"indices must be integer code indices, got dtype torch.float32"),
    ("codebook_usage index beyond the codebook", lambda: metrics.codebook_usage(
        torch.tensor([0, 9]), 8), V, r"indices must lie in \[0, 8\), found values from 0 to 9"),
    ("codebook_usage codebook_size=0", lambda: metrics.codebook_usage(torch.tensor([0]), 0), V,
     r"codebook_size must be a positive integer, got 0"),

    # viz
    ("make_grid one (3, H, W) image", lambda: viz.make_grid(torch.rand(3, 8, 8)), V,
     r"images of shape \(3, 8, 8\) are ambiguous.*images\[None\] for one colour image"),
    ("make_grid (H, W)", lambda: viz.make_grid(torch.rand(8, 8)), V,
     r"images must be \(n, H, W\).*got \(8, 8\); one image needs a batch dimension"),
    ("make_grid 2 channels", lambda: viz.make_grid(torch.rand(4, 2, 8, 8)), V,
     r"images must be \(n, H, W\), \(n, 1, H, W\) or \(n, 3, H, W\); got \(4, 2, 8, 8\)"),
    ("make_grid no images", lambda: viz.make_grid(torch.rand(0, 1, 8, 8)), V, r"no images"),
    ("make_grid nrow=0", lambda: viz.make_grid(images(), nrow=0), V,
     r"nrow must be a whole number >= 1 \(images per row\), got 0"),
    ("make_grid pad=-1", lambda: viz.make_grid(images(), pad=-1), V,
     r"pad must be a whole number >= 0"),
    ("make_grid a list of tensors", lambda: viz.make_grid([images()[0], images()[1]]), T,
     r"images must be a tensor or a NumPy array of images, got list.*torch.stack"),
    ("show_images logits", lambda: viz.show_images(torch.randn(4, 1, 8, 8) * 5), V,
     r"values in \[0, 1\], got values from -.* these look like logits: pass "
     r"torch.sigmoid\(logits\)"),
    ("show_images uint8", lambda: viz.show_images(torch.full((2, 1, 4, 4), 200,
                                                             dtype=torch.uint8)), V,
     r"floating point in \[0, 1\], got dtype torch.uint8; .*images.float\(\) / 255"),
    ("show_images 0..255 floats", lambda: viz.show_images(np.full((2, 4, 4), 255.0)), V,
     r"got values from 255 to 255; scale 0..255 pixels first"),
    ("show_images NaN", lambda: viz.show_images(torch.full((2, 1, 4, 4), NAN)), V,
     r"images hold 32 NaN or infinite value"),
    ("show_images pad_value=2", lambda: viz.show_images(images(), pad_value=2), V,
     r"pad_value must be a finite number from 0.0 to 1.0"),
    ("latent_scatter labels 1.5", lambda: viz.latent_scatter(torch.zeros(2, 2),
                                                             torch.tensor([0.0, 1.5])), V,
     r"labels must be whole class numbers >= 0, got values such as \[0.0, 1.5\]"),
    ("latent_scatter negative labels", lambda: viz.latent_scatter(torch.zeros(2, 2),
                                                                  torch.tensor([0, -1])), V,
     r"labels must be whole class numbers >= 0"),
    ("latent_scatter too few class names", lambda: viz.latent_scatter(
        torch.zeros(3, 2), torch.tensor([0, 1, 2]), class_names=["a", "b"]), V,
     r"labels go up to 2 but class_names has 2 names"),
    ("latent_scatter NaN codes", lambda: viz.latent_scatter(torch.full((2, 2), NAN),
                                                            torch.tensor([0, 1])), V,
     r"z must hold finite numbers .*4 NaN/inf value\(s\), which would be left out"),
    ("latent_scatter 1-D z", lambda: viz.latent_scatter(torch.zeros(4), torch.zeros(4)), V,
     r"z must be \(N, 2\) or wider, got \(4,\)"),
    ("latent_scatter labels of another length", lambda: viz.latent_scatter(
        torch.zeros(3, 2), torch.tensor([0, 1])), V, r"got 3 codes but 2 labels"),
    ("plot_history a dict", lambda: viz.plot_history({"loss": [1.0, 2.0]}), T,
     r"history must be the History that train.fit returns, got dict"),
    ("plot_history a tuple (model, history)", lambda: viz.plot_history((vae(), history())), T,
     r"got tuple .*\(a tuple holding one: unpack it first\)"),
    ("plot_history a list of losses", lambda: viz.plot_history([3.0, 2.0]), T,
     r"history must be the History .*got list"),
    ("plot_history unknown term", lambda: viz.plot_history(history(), terms=("kl",)), KeyError,
     r"no train values for 'kl'; it has \['loss'\]"),
    ("plot_history terms=[1]", lambda: viz.plot_history(history(), terms=[1]), V,
     r"terms must be loss-term names"),

    # widgets
    ("image_to_png logits", lambda: widgets.image_to_png(torch.randn(8, 8) * 4), V,
     r"the image must have values in \[0, 1\], got values from .*torch.sigmoid\(logits\)"),
    ("image_to_png scale=0", lambda: widgets.image_to_png(torch.rand(4, 4), scale=0), V,
     r"scale must be a whole number >= 1"),
    ("image_to_png a batch", lambda: widgets.image_to_png(torch.rand(2, 1, 4, 4)), V,
     r"expected one grey image"),
    ("image_to_png NaN", lambda: widgets.image_to_png(torch.full((4, 4), NAN)), V, r"NaN"),
    ("image_to_png a list", lambda: widgets.image_to_png([[0.0, 1.0]]), T,
     r"image must be a tensor or a NumPy array, got list"),
    ("latent_explorer initial outside the range", lambda: widgets.latent_explorer(
        lambda z: torch.rand(1, 1, 4, 4), latent_dim=2, initial=[0.0, 9.0]), V,
     r"initial\[1\] = 9 lies outside its slider's range \[-3, 3\]"),
    ("latent_explorer latent_dim=2.5", lambda: widgets.latent_explorer(
        lambda z: torch.rand(1, 1, 4, 4), latent_dim=2.5), T, r"latent_dim .*got 2.5"),
    ("latent_explorer step=0", lambda: widgets.latent_explorer(
        lambda z: torch.rand(1, 1, 4, 4), step=0), V, r"step must be a finite number > 0.0"),
    ("latent_explorer ranges high < low", lambda: widgets.latent_explorer(
        lambda z: torch.rand(1, 1, 4, 4), ranges=(1.0, -1.0)), V, r"every range needs low < high"),
    ("latent_explorer decoder returns logits", lambda: widgets.latent_explorer(
        lambda z: torch.full((1, 1, 4, 4), -2.0)), V, r"values from -2 to -2; decode to "
                                                      r"probabilities"),
    ("latent_explorer decode_fn not callable", lambda: widgets.latent_explorer("decoder"), T,
     r"decode_fn must be callable"),
]


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))  # nothing there


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_raises_one_clear_error(call, error, message):
    with pytest.raises(error) as err:
        call()
    text = str(err.value.args[0]) if isinstance(err.value, KeyError) else str(err.value)
    assert re_search(message, text), f"message does not match {message!r}:\n{text}"


def re_search(pattern: str, text: str) -> bool:
    import re
    return re.search(pattern, text, flags=re.DOTALL) is not None


def test_the_table_has_over_a_hundred_bad_inputs_covering_every_module():
    assert len(CASES) >= 100
    assert len({c[0] for c in CASES}) == len(CASES), "case ids must be unique"
