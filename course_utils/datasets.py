"""What every data loader shares: the tensors it returns, where data lives, and its errors.

The one home of :class:`Split`, :class:`Dataset`, :class:`DataNotFoundError`,
:func:`data_root` and :func:`download_allowed`. :mod:`course_utils.faces` (CelebA, LFW) and
:mod:`course_utils.data` (MNIST, Fashion-MNIST, and the public face of both) import them
from here; notebooks use them through ``data`` (``data.Split``, ``data.DataNotFoundError``).

Environment variables: ``COURSE_DATA`` (the data folder; default ``~/.cache/vae-course/data``,
which also works on Colab) and ``COURSE_DOWNLOAD`` (``0``/``false``/``no``/``off`` forbid
network access, ``1``/``true``/``yes``/``on`` allow it; any other value is an error).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ._validate import ArgumentTypeError, got, tensor, whole_number

__all__ = ["Split", "Dataset", "DataNotFoundError", "data_root", "download_allowed",
           "download_switch", "download_failure", "one_line"]

DOWNLOAD_WORDS = {"0": False, "false": False, "no": False, "off": False,
                  "1": True, "true": True, "yes": True, "on": True}


class DataNotFoundError(FileNotFoundError):
    """A data set could not be found or read; the message says how to get it."""


def _check_pixels(x: torch.Tensor) -> None:
    """Raise unless ``x`` is floating point with values in [0, 1] and no NaN."""
    scale = "scale 0..255 pixels into [0, 1] first: x = x.float() / 255"
    if not torch.is_floating_point(x):
        raise ValueError(f"Split images must be floating point with values in [0, 1], got "
                         f"dtype {x.dtype}; {scale}.")
    if x.numel():
        lo, hi = (float(v) for v in torch.aminmax(x.detach()))
        if lo != lo or hi != hi:  # aminmax propagates NaN
            count = int(torch.isnan(x.detach()).sum())
            raise ValueError(f"Split images hold {count} NaN value(s); every pixel must be a "
                             "number in [0, 1]. Find where they come from "
                             "(torch.isnan(x).nonzero() lists them).")
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"Split images must have values in [0, 1], got values from {lo:g} "
                             f"to {hi:g}; {scale} (or rescale other data into [0, 1]).")


@dataclass
class Split:
    """One split of an image data set, as tensors.

    Attributes:
        x: ``(N, C, H, W)`` float32 images with values in [0, 1].
        y: ``(N,)`` int64 class labels.
    Raises:
        ValueError: ``x`` or ``y`` is not a tensor, ``y`` is not a 1-D integer tensor, they
            differ in length, or ``x`` is not floating point in [0, 1] (e.g. uint8 pixels
            0..255: pass ``x.float() / 255``) or holds NaN.
    """
    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self):
        tensor("Split's x", self.x, what="images (N, C, H, W) in [0, 1]")
        tensor("Split's y", self.y, what="labels (N,), int64")
        if self.x.dim() < 1:
            raise ValueError("Split's x needs a first dimension of examples, (N, C, H, W); got "
                             "a scalar.")
        if self.y.dim() != 1 or self.y.is_floating_point() or self.y.is_complex():
            raise ValueError(f"Split's y must be (N,) integer class labels, got "
                             f"{got(self.y)}; e.g. torch.zeros(len(x), dtype=torch.int64) "
                             "when there are no classes.")
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} examples but y has {self.y.shape[0]}.")
        _check_pixels(self.x)

    def __len__(self) -> int:
        return self.x.shape[0]

    def to(self, device) -> "Split":
        """A copy on ``device`` (e.g. the whole data set on the GPU)."""
        return Split(self.x.to(device), self.y.to(device))

    def head(self, n: int | None) -> "Split":
        """The first ``n`` examples (all of them when ``n`` is None or at least ``len``)."""
        if n is None:
            return self
        n = whole_number("n", n, minimum=0, what="how many examples to keep; None keeps all")
        if n >= len(self):
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

    def __post_init__(self):
        for part in ("train", "test"):
            if not isinstance(getattr(self, part), Split):
                raise ArgumentTypeError(f"Dataset's {part} must be a Split, got "
                                        f"{got(getattr(self, part))}; build one with "
                                        "Split(x, y).")

    def to(self, device) -> "Dataset":
        return Dataset(self.name, self.source, self.train.to(device), self.test.to(device),
                       self.classes)


def data_root(root=None) -> Path:
    """The data folder: ``root`` if given, else ``$COURSE_DATA``, else ``~/.cache/vae-course/data``."""
    if root is None:
        root = os.environ.get("COURSE_DATA") or Path.home() / ".cache" / "vae-course" / "data"
    if not isinstance(root, (str, os.PathLike)):
        raise ArgumentTypeError(f"root must be a folder (a str or a pathlib.Path), got "
                                f"{got(root)}; or leave it out to use COURSE_DATA.")
    return Path(root).expanduser()


def download_allowed() -> bool:
    """Whether ``COURSE_DOWNLOAD`` allows downloads (unset or empty: yes).

    Accepts ``0``/``false``/``no``/``off`` (tests, offline machines) and ``1``/``true``/
    ``yes``/``on``, in any case; any other value raises ``ValueError``.
    """
    value = os.environ.get("COURSE_DOWNLOAD", "").strip()
    if not value:
        return True
    if value.lower() not in DOWNLOAD_WORDS:
        raise ValueError(f"COURSE_DOWNLOAD={value!r} is not understood; use one of "
                         f"{', '.join(w for w in DOWNLOAD_WORDS if not DOWNLOAD_WORDS[w])} "
                         "(no downloads) or "
                         f"{', '.join(w for w in DOWNLOAD_WORDS if DOWNLOAD_WORDS[w])} "
                         "(downloads allowed), or unset it (allowed).")
    return DOWNLOAD_WORDS[value.lower()]


def download_switch(download) -> bool:
    """A loader's ``download`` argument: ``None`` (follow ``COURSE_DOWNLOAD``) or a bool."""
    if download is None:
        return download_allowed()
    if not isinstance(download, bool):
        raise ArgumentTypeError(f"download must be True, False or None (None follows "
                                f"COURSE_DOWNLOAD), got {got(download)}.")
    return download


def one_line(err: BaseException) -> str:
    """``Type: message`` on one line (torchvision's download errors span several lines)."""
    message = " ".join(str(err).split())
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


# Why a download failed, in a few words: (pattern in the error's text, words).
_FAILURES = (
    (r"name or service not known|temporary failure in name resolution|nodename nor servname"
     r"|getaddrinfo failed|failed to resolve|network is unreachable|no route to host"
     r"|connection refused|no address associated|name resolution", "no network"),
    (r"timed? ?out", "the connection timed out"),
    (r"quota|too many users", "Google Drive's download quota is used up; try later"),
    (r"corrupted|md5|checksum", "a file failed its checksum (a proxy may have answered)"),
    (r"certificate|ssl", "the secure connection failed (SSL certificate)"),
    (r"http error (\d+)|status(?: code)? (\d+)|\b(40\d|50\d)\b", "the server answered HTTP {}"),
)


def download_failure(err: BaseException) -> str:
    """Why a download failed, in a few words (``"no network"``, ``"the connection timed out"``).

    Reads the error and the errors it was raised from; anything unrecognised is shown as its
    type and the first words of its message.
    """
    texts, seen = [], err
    for _ in range(5):  # the error, its cause and context: requests wraps urllib3 wraps socket
        if seen is None:
            break
        texts.append(f"{type(seen).__name__} {seen}")
        seen = seen.__cause__ or seen.__context__
    text = " ".join(texts).lower()
    for pattern, words in _FAILURES:
        match = re.search(pattern, text)
        if match:
            code = next((g for g in match.groups() if g), "") if match.groups() else ""
            return words.format(code)
    short = one_line(err)
    return short if len(short) <= 80 else short[:77] + "..."
