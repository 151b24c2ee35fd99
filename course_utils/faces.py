"""Face images as tensors: CelebA (with its 40 attributes) and the LFW stand-in.

Re-exported by :mod:`course_utils.data` (``data.load_celeba``, ``data.load_lfw_faces``,
``data.load_faces``); the conventions are those of :mod:`course_utils.datasets`: a
:class:`~course_utils.datasets.Dataset` of float32 images in [0, 1], ``COURSE_DATA`` /
``COURSE_DOWNLOAD``, one printed line naming the source, and
:class:`~course_utils.datasets.DataNotFoundError` with the fix when data is missing or broken.
:func:`load_faces` is CelebA when it is there and the LFW stand-in otherwise, in one line.

CelebA is looked for, in order, in each of these folders: ``path=`` if given, else
``<root>/celeba`` and ``<root>``. A folder holds CelebA in one of two layouts (:data:`LAYOUTS`):

* the official one, also torchvision's: ``img_align_celeba/*.jpg`` with
  ``list_attr_celeba.txt`` and ``list_eval_partition.txt`` beside the image folder or inside
  it (``path`` may also be the ``img_align_celeba`` folder itself);
* Kaggle's (``jessicali9530/celeba-dataset``): ``img_align_celeba/img_align_celeba/*.jpg``
  with ``list_attr_celeba.csv`` and ``list_eval_partition.csv``.

When none holds it: torchvision's ``datasets.CelebA(download=True)`` into ``<root>`` (skipped
when ``COURSE_DOWNLOAD=0``; Google Drive's quotas often make it fail); otherwise
:class:`DataNotFoundError` with the manual-download steps (:data:`CELEBA_STEPS`). Without
the partition file the official numbering splits the images; a split that comes out empty
(a subset of CelebA without its partition file) is an error, never an empty test set.

Pre-processing: the aligned 178 x 218 images are centre-cropped to 148 x 148 and resized to
``size`` x ``size`` (bilinear, antialiased), the pipeline of common CelebA-64 VAE code (e.g.
AntixK/PyTorch-VAE): the crop keeps the face from the eyebrows to the chin and drops most
of the background. A crop larger than the images is refused (it would pad them with black).
Decoding 202,599 JPEGs takes minutes, so the images are cached once as a uint8 tensor file
(``<root>/celeba_<size>.pt``: the images, the list of files they came from and a CRC-32
checksum). A cache that cannot be read, was built from other files or settings, or fails its
checksum is rebuilt (written to a temporary file, then renamed), never trusted. Attributes
and the partition are read from their files on every call, so an edited attribute file is
never shadowed by the cache.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ._validate import ArgumentTypeError, flag, got, optional_limit, whole_number
from .datasets import (DataNotFoundError, Dataset, Split, data_root, download_failure,
                       download_switch)

__all__ = ["FaceDataset", "load_celeba", "load_lfw_faces", "load_faces", "CELEBA_STEPS",
           "CELEBA_CROP", "CELEBA_SPLITS", "LAYOUTS", "CropTooLargeError"]

CELEBA_CROP = 148        # centre crop of the 178 x 218 aligned images, before resizing
CACHE_FORMAT = "vae-course celeba cache v2"
# The layouts load_celeba recognises in a folder: (images folder, attribute file, partition
# file), each relative to the folder.
LAYOUTS = (
    ("img_align_celeba", "list_attr_celeba.txt", "list_eval_partition.txt"),   # official
    ("img_align_celeba/img_align_celeba", "list_attr_celeba.csv",
     "list_eval_partition.csv"),                                                # Kaggle
)
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
Kaggle's copy (jessicali9530/celeba-dataset) works too, unzipped into {root}/celeba as it comes:
  img_align_celeba/img_align_celeba/*.jpg, list_attr_celeba.csv, list_eval_partition.csv.
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

def _rows(path: Path) -> list:
    """The non-empty lines of a text (spaces) or CSV (commas) file, split into fields."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if path.suffix == ".csv":
        return [[f.strip() for f in line.split(",")] for line in lines]
    return [line.split() for line in lines]


def _read_attributes(path: Path):
    """The attribute file: ``(files, names, (N, 40) int8 of +-1)``.

    ``list_attr_celeba.txt``: line 1 the count, line 2 the names, then ``name v1 ... v40``.
    Kaggle's ``list_attr_celeba.csv``: a header ``image_id,<names>``, then ``name,v1,...``.
    """
    try:
        rows = _rows(path)
        if path.suffix == ".csv":
            names, body, count = rows[0][1:], rows[1:], None
        else:
            count, names, body = int(rows[0][0]), rows[1], rows[2:]
        files, values = [], []
        for i, parts in enumerate(body):
            if len(parts) != len(names) + 1:
                raise ValueError(f"line {i + (2 if count is None else 3)} has {len(parts) - 1} "
                                 f"values, expected {len(names)}")
            files.append(parts[0])
            values.append([int(v) for v in parts[1:]])
        if count is not None and count != len(files):
            raise ValueError(f"the first line says {count} images but {len(files)} are listed")
        if not files:
            raise ValueError("it lists no images")
        attr = np.asarray(values, dtype=np.int8).reshape(len(files), len(names))
        if not np.isin(attr, (-1, 1)).all():
            raise ValueError("attribute values must be 1 or -1")
    except (OSError, ValueError, IndexError) as err:
        raise DataNotFoundError(f"{path} is not a valid CelebA attribute file ({err}); "
                                f"download {path.name} again.") from err
    return files, names, attr


def _read_partition(path: Path | None, files: list, images_dir: Path) -> np.ndarray:
    """0 train / 1 validation / 2 test per file, from the file or the official numbering.

    Raises DataNotFoundError when the train or the test split would be empty.
    """
    if path is None:
        try:
            numbers = np.array([int(Path(f).stem) for f in files])
        except ValueError as err:
            raise DataNotFoundError(
                f"There is no list_eval_partition.txt next to {images_dir}, and the image names "
                f"are not CelebA's numbers ({err}), so the train/test split is unknown. Put "
                "CelebA's list_eval_partition.txt (or Kaggle's .csv) beside the attribute "
                "file.") from err
        part = np.where(numbers <= CELEBA_SPLITS[0], 0,
                        np.where(numbers <= CELEBA_SPLITS[1], 1, 2)).astype(np.int8)
    else:
        try:
            rows = _rows(path)
            if path.suffix == ".csv":
                rows = rows[1:]  # the header: image_id,partition
            table = {r[0]: r[1] for r in rows}
            part = np.array([int(table[f]) for f in files], dtype=np.int8)
            if not np.isin(part, (0, 1, 2)).all():
                raise ValueError("partitions must be 0 (train), 1 (validation) or 2 (test)")
        except (OSError, ValueError, KeyError, IndexError) as err:
            raise DataNotFoundError(f"{path} is not a valid CelebA partition file or does not "
                                    f"list every image ({type(err).__name__}: {err}); download "
                                    f"{path.name} again.") from err
    for value, split in ((0, "train"), (2, "test")):
        if not (part == value).any():
            how = (f"the partition file {path}" if path is not None else
                   f"the official numbering (there is no list_eval_partition.txt next to "
                   f"{images_dir}: images 1-{CELEBA_SPLITS[0]:,} train, "
                   f"{CELEBA_SPLITS[1] + 1:,}-202,599 test)")
            raise DataNotFoundError(
                f"CelebA's {split} split is empty: none of the {len(files):,} images is in it "
                f"by {how}. This looks like a part of CelebA; use the whole of "
                "img_align_celeba with list_eval_partition.txt (or Kaggle's .csv), or give a "
                "partition file that lists train (0) and test (2) images.")
    return part


def _find_layout(folder: Path):
    """``(images_dir, attr_file, partition_file or None)`` if ``folder`` holds CelebA, else None.

    ``folder`` may hold one of :data:`LAYOUTS`, or be an ``img_align_celeba`` folder itself
    with the attribute file inside it or beside it (``.txt`` or Kaggle's ``.csv``).
    """
    images_dirs = [folder / "img_align_celeba" / "img_align_celeba", folder / "img_align_celeba"]
    if folder.name == "img_align_celeba":
        images_dirs.append(folder)
    for images in images_dirs:
        if not images.is_dir() or (images / "img_align_celeba").is_dir():
            continue  # Kaggle's outer folder holds only the inner one
        for where in dict.fromkeys((folder, images.parent, images)):  # unique, in order
            for suffix in (".txt", ".csv"):
                attr = where / f"list_attr_celeba{suffix}"
                if attr.is_file():
                    parts = [where / f"list_eval_partition{s}" for s in (suffix, ".txt", ".csv")]
                    part = next((p for p in parts if p.is_file()), None)
                    return images, attr, part
    return None


class CropTooLargeError(ValueError):
    """``crop`` is larger than an image: the crop would pad it with black."""


def _crop_resize(path: Path, size: int, crop: int) -> np.ndarray:
    """One JPEG -> ``(3, size, size)`` uint8: centre crop ``crop`` x ``crop``, then resize."""
    from PIL import Image
    with Image.open(path) as img:
        img = img.convert("RGB")
        w, h = img.size
        if crop > min(w, h):
            raise CropTooLargeError(
                f"crop={crop} is larger than the image {path} ({w} x {h} pixels): the centre "
                f"crop would pad it with black. Pass crop <= {min(w, h)} (CelebA's aligned "
                f"images are 178 x 218; {CELEBA_CROP} is the usual crop).")
        left, top = int(round((w - crop) / 2.0)), int(round((h - crop) / 2.0))
        img = img.crop((left, top, left + crop, top + crop)).resize((size, size), Image.BILINEAR)
        return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)


def _decode_chunk(args):
    paths, size, crop = args
    out = np.empty((len(paths), 3, size, size), dtype=np.uint8)
    for i, p in enumerate(paths):
        try:
            out[i] = _crop_resize(Path(p), size, crop)
        except CropTooLargeError:
            raise
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

def _checksum(images: torch.Tensor) -> int:
    return zlib.crc32(images.contiguous().numpy().view(np.uint8).reshape(-1).data)


def _load_cache(path: Path, key: dict):
    """The cached dict if ``path`` is a complete cache built with ``key``, else (None, why)."""
    if not path.is_file():
        return None, "no cache yet"
    try:
        cache = torch.load(path, map_location="cpu", weights_only=True)
        for k, v in key.items():
            if cache.get(k) != v:
                if k == "files":
                    return None, "it was built with files= other than those listed now"
                return None, f"it was built with {k}={cache.get(k)!r}, not {v!r}"
        images, n = cache["images"], len(key["files"])
        if images.shape != (n, 3, key["size"], key["size"]) or images.dtype != torch.uint8:
            return None, f"its tensors have the wrong shapes ({tuple(images.shape)})"
        if _checksum(images) != cache["checksum"]:
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


def _check_crop_fits(path: Path, crop: int) -> None:
    """Refuse a crop larger than the first image before minutes of decoding start."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            w, h = img.size
    except Exception:  # unreadable: _decode_chunk names the file
        return
    if crop > min(w, h):
        raise CropTooLargeError(
            f"crop={crop} is larger than CelebA's images ({w} x {h} pixels, e.g. {path.name}): "
            f"the centre crop would pad them with black. Pass crop <= {min(w, h)} "
            f"({CELEBA_CROP} is the usual crop).")


def _celeba_images(images_dir: Path, files: list, size: int, crop: int, cache_path: Path,
                   workers: int, verbose: bool) -> torch.Tensor:
    """``(N, 3, size, size)`` uint8 images of ``files``, from the cache or decoded (and cached)."""
    key = {"format": CACHE_FORMAT, "size": size, "crop": crop,
           "images_dir": str(images_dir.resolve()), "files": list(files)}
    cache, why = _load_cache(cache_path, key)
    if cache is not None:
        return cache["images"]
    _check_crop_fits(images_dir / files[0], crop)
    if verbose and why != "no cache yet":
        print(f"CelebA: rebuilding the cache {cache_path}: {why}")
    if verbose:
        print(f"CelebA: decoding {len(files):,} JPEGs into {size}x{size} (once) ...")
    images = torch.from_numpy(_decode_all([str(images_dir / f) for f in files], size, crop,
                                          workers))
    try:
        _save_cache(cache_path, {**key, "images": images, "checksum": _checksum(images)})
    except (OSError, RuntimeError) as err:  # torch.save raises RuntimeError for some
        raise DataNotFoundError(f"the CelebA cache {cache_path} could not be written ({err}); "
                                "set COURSE_DATA to a writable folder.") from err
    return images


def _split(images: torch.Tensor, attr: torch.Tensor, mask: torch.Tensor, limit):
    idx = torch.nonzero(mask).flatten()[:limit]
    x = images[idx].float().div_(255.0)
    return Split(x, torch.zeros(len(idx), dtype=torch.int64)), attr[idx]


class _CelebAMissing(DataNotFoundError):
    """CelebA is in none of the folders looked in (``short``: why, in one line); not raised
    for a CelebA that is there but broken, which :func:`load_faces` must not replace."""

    def __init__(self, message: str, short: str):
        super().__init__(message)
        self.short = short


def _torchvision_download(root: Path, tried: list, why: list) -> bool:
    import contextlib
    import io
    try:
        from torchvision.datasets import CelebA
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            CelebA(str(root), split="all", target_type="attr", download=True)
        return True
    except Exception as err:  # no network, Google Drive quota, a failed checksum, ...
        reason = download_failure(err)
        tried.append(f"torchvision's CelebA download into {root / 'celeba'} (failed: {reason}; "
                     f"{type(err).__name__}: {' '.join(str(err).split())[:120]})")
        why.append(f"download failed: {reason}")
        return False


def _face_args(size, limit_train, limit_test, verbose):
    return (whole_number("size", size, minimum=1, what="output height and width in pixels, "
                                                       "e.g. 64"),
            optional_limit("limit_train", limit_train), optional_limit("limit_test", limit_test),
            flag("verbose", verbose))


def load_celeba(size: int = 64, root=None, *, path=None, download: bool | None = None,
                limit_train: int | None = None, limit_test: int | None = None,
                crop: int = CELEBA_CROP, workers: int | None = None,
                verbose: bool = True) -> FaceDataset:
    """CelebA's aligned faces, centre-cropped and resized, with their 40 attributes.

    Args:
        size: output height and width in pixels, a whole number >= 1 (64: CelebA-64).
        root: data folder (default :func:`course_utils.datasets.data_root`); the cache goes here.
        path: a CelebA folder (official or Kaggle layout, see the module doc) or an
            ``img_align_celeba`` folder to use instead of ``root``'s.
        download: allow torchvision's download (default ``None``: ``COURSE_DOWNLOAD``, on).
        limit_train, limit_test: keep only the first so many images, a whole number >= 1
            (``None``: all).
        crop: side of the centre crop before resizing (148), at most the images' width (178).
        workers: processes decoding JPEGs when the cache is built (default: CPU cores).
    Returns:
        :class:`FaceDataset`: ``train`` (official partition 0) and ``test`` (partition 2;
        the 19,867 validation images are not used) with ``x: (N, 3, size, size)`` float32 in
        [0, 1], ``y: (N,)`` zeros; ``train_attr``/``test_attr`` ``(N, 40)`` int8 of +-1 and
        ``attr_names``. Prints one line naming the source.
    Raises:
        DataNotFoundError: CelebA not found (the message holds the manual-download steps),
            its files are incomplete or unreadable, its train or test split is empty, or the
            cache cannot be written.
        ValueError: an argument of the wrong type or range (``size=0``, ``limit_train=-1``,
            a crop larger than the images, ...).
    """
    size, limit_train, limit_test, verbose = _face_args(size, limit_train, limit_test, verbose)
    crop = whole_number("crop", crop, minimum=1, what=f"pixels, e.g. {CELEBA_CROP}")
    workers = None if workers is None else whole_number("workers", workers, what="processes")
    root = data_root(root)
    download = download_switch(download)
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"path must be a folder (a str or a pathlib.Path), got "
                                f"{got(path)}.")
    tried: list = []
    why: list = []
    candidates = [Path(path).expanduser()] if path is not None else [root / "celeba", root]
    found = None
    for folder in candidates:
        found = _find_layout(folder)
        if found:
            break
        tried.append(f"{folder} (not there)" if not folder.is_dir() else
                     f"{folder} (holds neither layout: {_layout_words()})")
    if found is None and path is None:
        if not download:
            tried.append("torchvision's CelebA download (switched off by COURSE_DOWNLOAD=0 "
                         "or download=False)")
            why.append("download switched off")
        elif _torchvision_download(root, tried, why):
            found = _find_layout(root / "celeba")
    if found is None:
        where = " or ".join(str(c) for c in candidates)
        short = f"CelebA is not in {where}" + (f" ({why[0]})" if why else "")
        raise _CelebAMissing("CelebA was not found. Looked in: " + "; ".join(tried) + ".\n"
                             + CELEBA_STEPS.format(root=root), short)
    images_dir, attr_file, part_file = found
    files, names, attr = _read_attributes(attr_file)
    missing = [f for f in files if not (images_dir / f).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{len(missing):,} of the {len(files):,} images listed in {attr_file} are missing "
            f"from {images_dir} (e.g. {', '.join(missing[:3])}): the zip was only partly "
            "unpacked. Unzip img_align_celeba.zip there again.\n" + CELEBA_STEPS.format(
                root=root))
    partition = torch.from_numpy(_read_partition(part_file, files, images_dir))
    cache_path = root / f"celeba_{size}.pt"
    images = _celeba_images(images_dir, files, size, crop, cache_path,
                            workers or os.cpu_count() or 1, verbose)
    attr = torch.from_numpy(attr)
    train, train_attr = _split(images, attr, partition == 0, limit_train)
    test, test_attr = _split(images, attr, partition == 2, limit_test)
    how = part_file.name if part_file else "the official numbering (no partition file)"
    source = (f"CelebA aligned images in {images_dir} (centre crop {crop}, resized to "
              f"{size}x{size}; split by {how}; cache {cache_path})")
    if verbose:
        print(f"CelebA: {len(train):,} train / {len(test):,} test faces, "
              f"{len(names)} attributes, from {source}")
    return FaceDataset("CelebA", source, train, test, ["face"], attr_names=list(names),
                       train_attr=train_attr, test_attr=test_attr)


def _layout_words() -> str:
    return " or ".join(f"{images}/*.jpg with {attr}" for images, attr, _ in LAYOUTS)


# ----- the offline stand-in -------------------------------------------------------------------

LFW_WORDS = "scikit-image's 100 real LFW faces (25x25 grey"


def load_lfw_faces(size: int = 32, *, n_test: int = 20, verbose: bool = True) -> FaceDataset:
    """The 100 real LFW faces shipped with scikit-image, as a small stand-in for CelebA.

    ``skimage.data.lfw_subset()`` holds 100 faces followed by 100 non-faces, each 25 x 25
    grey; only the faces are used. They are resized (bilinear) to ``size`` x ``size`` so that
    a conv net with stride-2 layers divides them evenly (32 = 2**5), shuffled with a fixed
    seed and split ``100 - n_test`` train / ``n_test`` test. There is no attribute file.

    Args:
        size: output height and width in pixels, a whole number >= 1.
        n_test: faces in the test split, a whole number from 1 to 99.
    Returns:
        :class:`FaceDataset` with ``x: (N, 1, size, size)`` float32 in [0, 1], ``y`` zeros,
        no attributes. Prints one line naming the source and that it is a stand-in.
    Raises:
        DataNotFoundError: scikit-image is missing or its LFW file cannot be read.
        ValueError: ``size`` or ``n_test`` of the wrong type or range.
    """
    size, _, _, verbose = _face_args(size, None, None, verbose)
    n_test = whole_number("n_test", n_test, minimum=1, maximum=99,
                          what="test faces of the 100")
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
    x = torch.from_numpy(faces)[:, None]
    if size != 25:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                            align_corners=False)
    x = x.clamp_(0.0, 1.0)  # bilinear weights are convex: this only removes rounding error
    order = torch.randperm(100, generator=torch.Generator().manual_seed(0))
    x = x[order].contiguous()
    zeros = torch.zeros(100, dtype=torch.int64)
    train, test = Split(x[n_test:], zeros[n_test:]), Split(x[:n_test], zeros[:n_test])
    source = (f"{LFW_WORDS}, resized to {size}x{size}; skimage.data.lfw_subset(); no "
              "attributes) -- a stand-in for CelebA")
    if verbose:
        print(f"LFW faces: {len(train)} train / {len(test)} test faces from {source}")
    return FaceDataset("LFW faces (stand-in)", source, train, test, ["face"])


def load_faces(size: int = 64, *, stand_in_size: int = 32, root=None, path=None,
               download: bool | None = None, limit_train: int | None = None,
               limit_test: int | None = None, crop: int = CELEBA_CROP,
               workers: int | None = None, verbose: bool = True) -> FaceDataset:
    """CelebA when it is there (see :func:`load_celeba`), else the LFW stand-in, in one line.

    Only a CelebA that is *not there* is replaced, and the printed line says so: which faces,
    how many, from where, and why not CelebA (e.g. ``CelebA is not in ~/.cache/vae-course/data
    (download failed: no network)``). A CelebA that is there but broken (a partly unzipped
    folder, a bad attribute file, a crop larger than the images) raises, as in
    :func:`load_celeba`.

    Args:
        size: CelebA's output size in pixels (64); stand_in_size: the LFW faces' (32).
        root, path, download, crop, workers: as for :func:`load_celeba`.
        limit_train, limit_test: keep only the first so many images of either data set.
    Returns:
        :class:`FaceDataset`: ``name`` is ``"CelebA"`` or ``"LFW faces (stand-in)"``.
    """
    size, limit_train, limit_test, verbose = _face_args(size, limit_train, limit_test, verbose)
    stand_in_size = whole_number("stand_in_size", stand_in_size, minimum=1,
                                 what="the LFW faces' height and width in pixels, e.g. 32")
    try:
        return load_celeba(size, root, path=path, download=download, limit_train=limit_train,
                           limit_test=limit_test, crop=crop, workers=workers, verbose=verbose)
    except _CelebAMissing as err:
        missing = err.short
    lfw = load_lfw_faces(stand_in_size, verbose=False)
    lfw.train, lfw.test = lfw.train.head(limit_train), lfw.test.head(limit_test)
    lfw.source = (f"{LFW_WORDS}, resized to {stand_in_size}x{stand_in_size}), a stand-in: "
                  f"{missing}")
    if verbose:
        print(f"Faces: {len(lfw.train)} train / {len(lfw.test)} test images from {lfw.source}")
    return lfw
