"""Face images as tensors: CelebA (with its 40 attributes) and the LFW stand-in.

Re-exported by :mod:`course_utils.data` (``data.load_celeba``, ``data.load_lfw_faces``); the
conventions are that module's: a :class:`~course_utils.data.Dataset` of float32 images in
[0, 1], ``COURSE_DATA`` / ``COURSE_DOWNLOAD``, one printed line naming the source, and
:class:`~course_utils.data.DataNotFoundError` with the fix when data is missing or broken.

CelebA is looked for, in order:

1. ``path=`` if given: a CelebA folder (holding ``img_align_celeba/``) or a plain
   ``img_align_celeba`` folder, with ``list_attr_celeba.txt`` inside it or next to it;
2. torchvision's layout, ``<root>/celeba/img_align_celeba/*.jpg`` with
   ``<root>/celeba/list_attr_celeba.txt`` and ``list_eval_partition.txt``;
3. a plain ``<root>/img_align_celeba/`` folder with ``<root>/list_attr_celeba.txt``;
4. torchvision's ``datasets.CelebA(download=True)`` into ``<root>`` (skipped when
   ``COURSE_DOWNLOAD=0``; Google Drive's quotas often make it fail);
5. otherwise :class:`DataNotFoundError` with the manual-download steps (:data:`CELEBA_STEPS`).

Pre-processing: the aligned 178 x 218 images are centre-cropped to 148 x 148 and resized to
``size`` x ``size`` (bilinear, antialiased), the pipeline of common CelebA-64 VAE code (e.g.
AntixK/PyTorch-VAE): the crop keeps the face from the eyebrows to the chin and drops most
of the background. Decoding 202,599 JPEGs takes minutes, so the result is cached once as a
uint8 tensor file (``<root>/celeba_<size>.pt``: images, attributes, partition, count and a
CRC-32 checksum). A cache that cannot be read, was built from other files or settings, or
fails its checksum is rebuilt (written to a temporary file, then renamed), never trusted.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .data import Dataset, DataNotFoundError, Split, data_root, download_allowed

__all__ = ["FaceDataset", "load_celeba", "load_lfw_faces", "CELEBA_STEPS", "CELEBA_CROP",
           "CELEBA_SPLITS"]

CELEBA_CROP = 148        # centre crop of the 178 x 218 aligned images, before resizing
CACHE_FORMAT = "vae-course celeba cache v1"
# Official partition when list_eval_partition.txt is absent: images 1-162,770 train,
# 162,771-182,637 validation, 182,638-202,599 test (the numbers in the file names).
CELEBA_SPLITS = (162_770, 182_637)
CELEBA_STEPS = """\
CelebA must be downloaded by hand (Google Drive's quotas often break automatic downloads):
  1. Open the official page https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html and follow
     its "Google Drive" link (Downloads -> In-The-Wild Images / Align&Cropped Images).
  2. From the Drive folder download Img/img_align_celeba.zip (1.4 GB; the JPEG one, not the
     PNG one), Anno/list_attr_celeba.txt and Eval/list_eval_partition.txt.
  3. mkdir -p {root}/celeba
     unzip img_align_celeba.zip -d {root}/celeba
     mv list_attr_celeba.txt list_eval_partition.txt {root}/celeba/
  4. You should now have {root}/celeba/img_align_celeba/000001.jpg ... 202599.jpg,
     {root}/celeba/list_attr_celeba.txt and {root}/celeba/list_eval_partition.txt.
     Run again; the first run builds a cache ({root}/celeba_64.pt, about 2.5 GB for 64 x 64).
Or set COURSE_DATA to a folder that already holds them, or pass path=... to load_celeba."""


@dataclass
class FaceDataset(Dataset):
    """A :class:`Dataset` of faces (``y`` is all zeros: one class, "face"), plus attributes.

    Attributes:
        attr_names: attribute names (CelebA's 40, e.g. ``"Smiling"``); empty without them.
        train_attr, test_attr: ``(N, len(attr_names))`` int8, +1 (has it) / -1 (has not),
            aligned with ``train.x`` / ``test.x``; ``None`` without an attribute file.
    """
    attr_names: list = field(default_factory=list)
    train_attr: torch.Tensor | None = None
    test_attr: torch.Tensor | None = None

    def to(self, device) -> "FaceDataset":
        return FaceDataset(self.name, self.source, self.train.to(device), self.test.to(device),
                           self.classes, self.attr_names, self.train_attr, self.test_attr)


# ----- reading CelebA's files ---------------------------------------------------------------

def _read_attributes(path: Path):
    """``list_attr_celeba.txt``: line 1 the count, line 2 the names, then ``name v1 ... v40``."""
    try:
        lines = path.read_text().splitlines()
        count, names = int(lines[0].split()[0]), lines[1].split()
        files, rows = [], []
        for line in lines[2:]:
            if line.strip():
                parts = line.split()
                if len(parts) != len(names) + 1:
                    raise ValueError(f"line {len(files) + 3} has {len(parts) - 1} values, "
                                     f"expected {len(names)}")
                files.append(parts[0])
                rows.append([int(v) for v in parts[1:]])
        if count != len(files):
            raise ValueError(f"the first line says {count} images but {len(files)} are listed")
        attr = np.asarray(rows, dtype=np.int8).reshape(len(files), len(names))
        if not np.isin(attr, (-1, 1)).all():
            raise ValueError("attribute values must be 1 or -1")
    except (OSError, ValueError, IndexError) as err:
        raise DataNotFoundError(f"{path} is not a valid CelebA attribute file ({err}); "
                                "download list_attr_celeba.txt again.") from err
    return files, names, attr


def _read_partition(path: Path | None, files: list) -> np.ndarray:
    """0 train / 1 validation / 2 test per file, from the file or the official numbering."""
    if path is None:
        numbers = np.array([int(Path(f).stem) for f in files])
        return np.where(numbers <= CELEBA_SPLITS[0], 0, np.where(numbers <= CELEBA_SPLITS[1], 1, 2))
    try:
        table = dict(line.split() for line in path.read_text().splitlines() if line.strip())
        return np.array([int(table[f]) for f in files], dtype=np.int8)
    except (OSError, ValueError, KeyError) as err:
        raise DataNotFoundError(f"{path} is not a valid CelebA partition file or does not list "
                                f"every image ({type(err).__name__}: {err}); download "
                                "list_eval_partition.txt again.") from err


def _find_layout(folder: Path):
    """``(images_dir, attr_file, partition_file or None)`` if ``folder`` holds CelebA, else None."""
    for images in (folder / "img_align_celeba", folder):
        if images.name != "img_align_celeba" or not images.is_dir():
            continue
        for where in (images.parent, images):
            attr = where / "list_attr_celeba.txt"
            if attr.is_file():
                part = where / "list_eval_partition.txt"
                return images, attr, part if part.is_file() else None
    return None


def _crop_resize(path: Path, size: int, crop: int) -> np.ndarray:
    """One JPEG -> ``(3, size, size)`` uint8: centre crop ``crop`` x ``crop``, then resize."""
    from PIL import Image
    with Image.open(path) as img:
        img = img.convert("RGB")
        w, h = img.size
        left, top = int(round((w - crop) / 2.0)), int(round((h - crop) / 2.0))
        img = img.crop((left, top, left + crop, top + crop)).resize((size, size), Image.BILINEAR)
        return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)


def _decode_chunk(args):
    paths, size, crop = args
    out = np.empty((len(paths), 3, size, size), dtype=np.uint8)
    for i, p in enumerate(paths):
        try:
            out[i] = _crop_resize(Path(p), size, crop)
        except Exception as err:  # truncated or not a JPEG: name the file
            raise DataNotFoundError(f"CelebA image {p} could not be read ({type(err).__name__}: "
                                    f"{err}); unzip img_align_celeba.zip again.") from err
    return out


def _decode_all(paths: list, size: int, crop: int, workers: int) -> np.ndarray:
    chunks = [(paths[i:i + 1000], size, crop) for i in range(0, len(paths), 1000)]
    if workers <= 1 or len(chunks) <= 1:
        parts = [_decode_chunk(c) for c in chunks]
    else:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_decode_chunk, chunks)
    return np.concatenate(parts) if parts else np.empty((0, 3, size, size), np.uint8)


# ----- the cache ------------------------------------------------------------------------------

def _checksum(images: torch.Tensor, attr: torch.Tensor, partition: torch.Tensor) -> int:
    crc = 0
    for t in (images, attr, partition):
        crc = zlib.crc32(t.contiguous().numpy().view(np.uint8).reshape(-1).data, crc)
    return crc


def _load_cache(path: Path, key: dict):
    """The cached dict if ``path`` is a complete cache built with ``key``, else (None, why)."""
    if not path.is_file():
        return None, "no cache yet"
    try:
        cache = torch.load(path, map_location="cpu", weights_only=True)
        for k, v in key.items():
            if cache[k] != v:
                return None, f"it was built with {k}={cache[k]!r}, not {v!r}"
        images, attr, part = cache["images"], cache["attributes"], cache["partition"]
        n = key["count"]
        if images.shape != (n, 3, key["size"], key["size"]) or images.dtype != torch.uint8 \
                or attr.shape[0] != n or part.shape != (n,):
            return None, f"its tensors have the wrong shapes ({tuple(images.shape)})"
        if _checksum(images, attr, part) != cache["checksum"]:
            return None, "its checksum does not match (corrupt)"
    except Exception as err:  # truncated, garbled, not a torch file, missing keys
        return None, f"it cannot be read ({type(err).__name__}: {' '.join(str(err).split())[:120]})"
    return cache, ""


def _save_cache(path: Path, cache: dict) -> None:
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(cache, tmp)
        os.replace(tmp, path)  # atomic: a reader sees the old file or the whole new one
    finally:
        if tmp.exists():
            tmp.unlink()


def _celeba_tensors(images_dir: Path, attr_file: Path, part_file, size: int, crop: int,
                    cache_path: Path, workers: int, verbose: bool):
    files, names, attr = _read_attributes(attr_file)
    missing = [f for f in files if not (images_dir / f).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{len(missing):,} of the {len(files):,} images listed in {attr_file} are missing "
            f"from {images_dir} (e.g. {', '.join(missing[:3])}): the zip was only partly "
            "unpacked. Unzip img_align_celeba.zip there again.\n" + CELEBA_STEPS.format(
                root=data_root()))
    partition = _read_partition(part_file, files)
    key = {"format": CACHE_FORMAT, "size": size, "crop": crop, "count": len(files),
           "images_dir": str(images_dir.resolve()), "attr_names": names}
    cache, why = _load_cache(cache_path, key)
    if cache is None:
        if verbose and why != "no cache yet":
            print(f"CelebA: rebuilding the cache {cache_path}: {why}")
        if verbose:
            print(f"CelebA: decoding {len(files):,} JPEGs into {size}x{size} (once) ...")
        images = torch.from_numpy(_decode_all([str(images_dir / f) for f in files], size, crop,
                                              workers))
        attr_t, part_t = torch.from_numpy(attr), torch.from_numpy(partition.astype(np.int8))
        cache = {**key, "images": images, "attributes": attr_t, "partition": part_t,
                 "checksum": _checksum(images, attr_t, part_t)}
        try:
            _save_cache(cache_path, cache)
        except (OSError, RuntimeError) as err:  # torch.save raises RuntimeError for some
            raise DataNotFoundError(f"the CelebA cache {cache_path} could not be written ({err}); "
                                    "set COURSE_DATA to a writable folder.") from err
    return cache


def _split(images: torch.Tensor, attr: torch.Tensor, mask: torch.Tensor, limit):
    idx = torch.nonzero(mask).flatten()[:limit]
    x = images[idx].float().div_(255.0)
    return Split(x, torch.zeros(len(idx), dtype=torch.int64)), attr[idx]


def _torchvision_download(root: Path, tried: list) -> bool:
    import contextlib
    import io
    try:
        from torchvision.datasets import CelebA
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            CelebA(str(root), split="all", target_type="attr", download=True)
        return True
    except Exception as err:  # no network, Google Drive quota, a failed checksum, ...
        tried.append(f"torchvision's CelebA download into {root / 'celeba'} (failed: "
                     f"{type(err).__name__}: {' '.join(str(err).split())[:200]})")
        return False


def load_celeba(size: int = 64, root=None, *, path=None, download: bool | None = None,
                limit_train: int | None = None, limit_test: int | None = None,
                crop: int = CELEBA_CROP, workers: int | None = None,
                verbose: bool = True) -> FaceDataset:
    """CelebA's aligned faces, centre-cropped and resized, with their 40 attributes.

    Args:
        size: output height and width in pixels (64: the usual CelebA-64).
        root: data folder (default :func:`course_utils.data.data_root`); the cache goes here.
        path: a CelebA folder or an ``img_align_celeba`` folder to use instead of ``root``'s.
        download: allow torchvision's download (default: ``COURSE_DOWNLOAD``, on).
        limit_train, limit_test: keep only the first so many images (``None``: all).
        crop: side of the centre crop before resizing (148).
        workers: processes decoding JPEGs when the cache is built (default: CPU cores).
    Returns:
        :class:`FaceDataset`: ``train`` (official partition 0) and ``test`` (partition 2;
        the 19,867 validation images are not used) with ``x: (N, 3, size, size)`` float32 in
        [0, 1], ``y: (N,)`` zeros; ``train_attr``/``test_attr`` ``(N, 40)`` int8 of +-1 and
        ``attr_names``. Prints one line naming the source.
    Raises:
        DataNotFoundError: CelebA not found (the message holds the manual-download steps),
            its files are incomplete or unreadable, or the cache cannot be written.
    """
    root = data_root(root)
    download = download_allowed() if download is None else download
    tried: list = []
    candidates = [Path(path).expanduser()] if path is not None else [root / "celeba", root]
    found = None
    for folder in candidates:
        found = _find_layout(folder)
        if found:
            break
        tried.append(f"{folder}/img_align_celeba/*.jpg with list_attr_celeba.txt (not there)")
    if found is None and path is None:
        if not download:
            tried.append("torchvision's CelebA download (switched off by COURSE_DOWNLOAD=0)")
        elif _torchvision_download(root, tried):
            found = _find_layout(root / "celeba")
    if found is None:
        raise DataNotFoundError("CelebA was not found. Looked for: " + "; ".join(tried) + ".\n"
                                + CELEBA_STEPS.format(root=root))
    images_dir, attr_file, part_file = found
    cache_path = root / f"celeba_{size}.pt"
    cache = _celeba_tensors(images_dir, attr_file, part_file, size, crop, cache_path,
                            workers or os.cpu_count() or 1, verbose)
    images, attr, part = cache["images"], cache["attributes"], cache["partition"]
    train, train_attr = _split(images, attr, part == 0, limit_train)
    test, test_attr = _split(images, attr, part == 2, limit_test)
    how = "list_eval_partition.txt" if part_file else "the official numbering (no partition file)"
    source = (f"CelebA aligned images in {images_dir} (centre crop {crop}, resized to "
              f"{size}x{size}; split by {how}; cache {cache_path})")
    if verbose:
        print(f"CelebA: {len(train):,} train / {len(test):,} test faces, "
              f"{len(cache['attr_names'])} attributes, from {source}")
    return FaceDataset("CelebA", source, train, test, ["face"], list(cache["attr_names"]),
                       train_attr, test_attr)


# ----- the offline stand-in -------------------------------------------------------------------

def load_lfw_faces(size: int = 32, *, n_test: int = 20, verbose: bool = True) -> FaceDataset:
    """The 100 real LFW faces shipped with scikit-image, as a small stand-in for CelebA.

    ``skimage.data.lfw_subset()`` holds 100 faces followed by 100 non-faces, each 25 x 25
    grey; only the faces are used. They are resized (bilinear) to ``size`` x ``size`` so that
    a conv net with stride-2 layers divides them evenly (32 = 2**5), shuffled with a fixed
    seed and split ``100 - n_test`` train / ``n_test`` test. There is no attribute file.

    Returns:
        :class:`FaceDataset` with ``x: (N, 1, size, size)`` float32 in [0, 1], ``y`` zeros,
        no attributes. Prints one line naming the source and that it is a stand-in.
    Raises:
        DataNotFoundError: scikit-image is missing or its LFW file cannot be read.
    """
    try:
        from skimage.data import lfw_subset
        faces = np.asarray(lfw_subset(), dtype=np.float32)[:100]
    except Exception as err:
        raise DataNotFoundError(f"the LFW faces of scikit-image could not be loaded "
                                f"({type(err).__name__}: {err}); `pip install scikit-image` "
                                "(>= 0.21) provides them.") from err
    if faces.shape != (100, 25, 25):
        raise DataNotFoundError(f"skimage.data.lfw_subset() gave {faces.shape}, expected 100 "
                                "faces of 25 x 25 first; reinstall scikit-image.")
    if not 0 < n_test < 100:
        raise ValueError(f"n_test must be between 1 and 99 (of 100 faces), got {n_test}.")
    x = torch.from_numpy(faces)[:, None]
    if size != 25:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                            align_corners=False)
    x = x.clamp_(0.0, 1.0)
    order = torch.randperm(100, generator=torch.Generator().manual_seed(0))
    x = x[order].contiguous()
    zeros = torch.zeros(100, dtype=torch.int64)
    train, test = Split(x[n_test:], zeros[n_test:]), Split(x[:n_test], zeros[:n_test])
    source = (f"scikit-image's LFW subset (skimage.data.lfw_subset(): 100 real faces, 25x25 "
              f"grey, resized to {size}x{size}; no attributes) -- a stand-in for CelebA")
    if verbose:
        print(f"LFW faces: {len(train)} train / {len(test)} test faces from {source}")
    return FaceDataset("LFW faces (stand-in)", source, train, test, ["face"])
