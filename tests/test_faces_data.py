"""CelebA and LFW loaders (course_utils.faces, re-exported by course_utils.data).

The CelebA tests build a small synthetic folder in CelebA's exact layout: 178 x 218 JPEGs
named 000001.jpg ..., ``list_attr_celeba.txt`` (count, the 40 names, then one line of +-1
per image) and ``list_eval_partition.txt``.
"""
import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import data, faces

ATTR_NAMES = ("5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips "
              "Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin "
              "Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open "
              "Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline "
              "Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
              "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young").split()
N = 20


def make_celeba(folder, n=N, partition=True, first=1, numbers=None):
    """Write ``n`` JPEGs and CelebA's text files into ``folder``; returns (colours, attr, part).

    The images are numbered ``first, first + 1, ...``, or ``numbers`` when given."""
    images = folder / "img_align_celeba"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(n, 3))
    attr = rng.choice([-1, 1], size=(n, 40))
    part = np.array([0] * 12 + [1] * 3 + [2] * 5)[:n]
    numbers = range(first, first + n) if numbers is None else numbers
    names = [f"{k:06d}.jpg" for k in numbers]
    for name, c in zip(names, colours):
        # a flat colour with a dark frame outside the 148 x 148 centre crop
        arr = np.zeros((218, 178, 3), np.uint8)
        arr[35:35 + 148, 15:15 + 148] = c
        Image.fromarray(arr).save(images / name, quality=95)
    lines = [str(n), " ".join(ATTR_NAMES)]
    lines += [f"{name} " + " ".join(f"{v:2d}" for v in row) for name, row in zip(names, attr)]
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    if partition:
        (folder / "list_eval_partition.txt").write_text(
            "".join(f"{name} {p}\n" for name, p in zip(names, part)))
    return colours, attr, part


@pytest.fixture
def torchvision_layout(tmp_path):
    truth = make_celeba(tmp_path / "celeba")
    return tmp_path, truth


def test_celeba_torchvision_layout_gives_crops_attributes_and_official_split(torchvision_layout, capsys):
    root, (colours, attr, part) = torchvision_layout
    ds = data.load_celeba(size=16, root=root, workers=1)
    assert ds.train.x.shape == ((part == 0).sum(), 3, 16, 16) and ds.train.x.dtype == torch.float32
    assert ds.test.x.shape == ((part == 2).sum(), 3, 16, 16)
    assert ds.attr_names == ATTR_NAMES
    assert torch.equal(ds.train_attr, torch.from_numpy(attr[part == 0]).to(torch.int8))
    assert torch.equal(ds.test_attr, torch.from_numpy(attr[part == 2]).to(torch.int8))
    # the centre crop holds only the flat colour: no dark frame pixel survives the crop
    mean_colour = ds.train.x.mean(dim=(2, 3)) * 255
    assert torch.allclose(mean_colour, torch.tensor(colours[part == 0], dtype=torch.float32), atol=4)
    assert "CelebA: 12 train / 5 test faces" in capsys.readouterr().out


def test_celeba_plain_img_align_folder_with_attribute_file(tmp_path):
    make_celeba(tmp_path / "mydata")
    ds = data.load_celeba(size=8, root=tmp_path / "cache", path=tmp_path / "mydata" / "img_align_celeba",
                          workers=1, verbose=False)
    assert len(ds.train) == 12 and len(ds.test) == 5 and ds.train.x.shape[1:] == (3, 8, 8)
    # ...and in the data root itself, without a celeba/ folder
    ds2 = data.load_celeba(size=8, root=tmp_path / "mydata", workers=1, verbose=False)
    assert torch.equal(ds.train.x, ds2.train.x)


def test_celeba_without_partition_file_uses_official_numbering(tmp_path):
    train_end, valid_end = faces.CELEBA_SPLITS
    numbers = [*range(train_end - 7, train_end + 1), *range(valid_end - 3, valid_end + 9)]
    make_celeba(tmp_path, partition=False, numbers=numbers)  # 8 train, 4 valid, 8 test
    ds = data.load_celeba(size=8, root=tmp_path, workers=1, verbose=False)
    assert (len(ds.train), len(ds.test)) == (8, 8)
    assert "official numbering" in ds.source


@pytest.mark.parametrize("first, empty", [(faces.CELEBA_SPLITS[1] - 9, "train"), (1, "test")])
def test_celeba_subset_without_partition_file_is_refused_not_an_empty_split(tmp_path, first,
                                                                            empty):
    """A part of CelebA without list_eval_partition.txt used to give 0 test images silently."""
    make_celeba(tmp_path, partition=False, first=first)
    with pytest.raises(data.DataNotFoundError,
                       match=rf"CelebA's {empty} split is empty: none of the 20 images .*"
                             r"no list_eval_partition.txt"):
        data.load_celeba(size=8, root=tmp_path, workers=1, verbose=False)


def test_celeba_cache_is_created_then_reused(torchvision_layout, capsys):
    root, _ = torchvision_layout
    first = data.load_celeba(size=16, root=root, workers=1)
    cache = root / "celeba_16.pt"
    assert cache.is_file() and "decoding 20 JPEGs" in capsys.readouterr().out
    # reuse: delete the JPEGs; only a valid cache can still give the same tensors
    for p in (root / "celeba" / "img_align_celeba").iterdir():
        p.write_bytes(b"not a jpeg any more")
    second = data.load_celeba(size=16, root=root, workers=1)
    assert "decoding" not in capsys.readouterr().out
    assert torch.equal(first.train.x, second.train.x) and torch.equal(first.test_attr, second.test_attr)


@pytest.mark.parametrize("damage", ["truncate", "garble", "flip_pixel_bytes"])
def test_celeba_corrupt_cache_is_detected_and_rebuilt(torchvision_layout, capsys, damage):
    root, _ = torchvision_layout
    good = data.load_celeba(size=16, root=root, workers=1, verbose=False)
    cache = root / "celeba_16.pt"
    raw = cache.read_bytes()
    if damage == "truncate":
        cache.write_bytes(raw[: len(raw) // 2])
    elif damage == "garble":
        cache.write_bytes(bytes(b ^ 0x5A for b in raw))
    else:  # a valid torch file whose pixels changed: only the checksum can tell
        c = torch.load(cache, weights_only=True)
        c["images"][0, 0, 0, 0] += 1
        torch.save(c, cache)
    again = data.load_celeba(size=16, root=root, workers=1)
    out = capsys.readouterr().out
    assert "rebuilding the cache" in out and "decoding 20 JPEGs" in out
    assert ("checksum" in out) == (damage == "flip_pixel_bytes")
    assert torch.equal(good.train.x, again.train.x)
    assert not list(root.glob("*.tmp*"))  # the rebuild left no temporary file
    torch.load(cache, weights_only=True)  # and the new cache is whole


def test_celeba_cache_built_with_other_settings_is_rebuilt(torchvision_layout, capsys):
    root, _ = torchvision_layout
    a = data.load_celeba(size=16, root=root, workers=1, verbose=False)
    b = data.load_celeba(size=16, root=root, crop=100, workers=1)
    assert "built with crop=148" in capsys.readouterr().out
    assert torch.equal(a.test_attr, b.test_attr)
    assert torch.load(root / "celeba_16.pt", weights_only=True)["crop"] == 100


def test_celeba_missing_prints_manual_download_steps(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_celeba(root=tmp_path)
    message = str(err.value)
    for step in ("mmlab.ie.cuhk.edu.hk/projects/CelebA.html", "Google Drive", "img_align_celeba.zip",
                 "list_attr_celeba.txt", "list_eval_partition.txt",
                 f"unzip img_align_celeba.zip -d {tmp_path}/celeba",
                 f"{tmp_path}/celeba/img_align_celeba/000001.jpg", "COURSE_DOWNLOAD=0"):
        assert step in message, step


def test_celeba_failed_download_is_reported_with_the_steps(tmp_path, monkeypatch):
    import torchvision.datasets

    class Broken:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("Google Drive quota exceeded")
    monkeypatch.setattr(torchvision.datasets, "CelebA", Broken)
    with pytest.raises(data.DataNotFoundError, match="quota exceeded(.|\n)*unzip img_align_celeba"):
        data.load_celeba(root=tmp_path, download=True)


def test_celeba_partly_unzipped_folder_names_the_missing_images(torchvision_layout):
    root, _ = torchvision_layout
    (root / "celeba" / "img_align_celeba" / "000007.jpg").unlink()
    with pytest.raises(data.DataNotFoundError, match="1 of the 20 images .* missing .*000007.jpg"):
        data.load_celeba(size=16, root=root, workers=1)


def test_celeba_bad_attribute_file_is_an_error(torchvision_layout):
    root, _ = torchvision_layout
    attr = root / "celeba" / "list_attr_celeba.txt"
    attr.write_text(attr.read_text().replace("\n000003.jpg", "\n000003.jpg 2", 1))
    with pytest.raises(data.DataNotFoundError, match="not a valid CelebA attribute file"):
        data.load_celeba(size=16, root=root, workers=1)


def test_celeba_unreadable_jpeg_names_the_file(torchvision_layout):
    root, _ = torchvision_layout
    (root / "celeba" / "img_align_celeba" / "000004.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(data.DataNotFoundError, match="000004.jpg could not be read"):
        data.load_celeba(size=16, root=root, workers=1)
    assert not (root / "celeba_16.pt").exists()  # nothing half-built is left to trust


def test_celeba_parallel_decoding_equals_serial(tmp_path):
    make_celeba(tmp_path / "celeba")
    paths = sorted(str(p) for p in (tmp_path / "celeba" / "img_align_celeba").iterdir())
    serial = faces._decode_all(paths, 16, 148, workers=1)
    chunks = [faces._decode_chunk((paths[i:i + 7], 16, 148)) for i in range(0, 20, 7)]
    assert np.array_equal(serial, np.concatenate(chunks))


def test_face_dataset_to_keeps_attributes(torchvision_layout):
    root, _ = torchvision_layout
    ds = data.load_celeba(size=8, root=root, workers=1, verbose=False).to("cpu")
    assert isinstance(ds, faces.FaceDataset) and ds.attr_names == ATTR_NAMES
    assert ds.train_attr.shape == (12, 40)


def test_lfw_faces_are_the_100_real_faces_in_unit_range(capsys):
    ds = data.load_lfw_faces(size=32)
    assert ds.train.x.shape == (80, 1, 32, 32) and ds.test.x.shape == (20, 1, 32, 32)
    x = torch.cat([ds.train.x, ds.test.x])
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.1
    assert ds.train_attr is None and ds.attr_names == []
    line = capsys.readouterr().out
    assert "LFW" in line and "stand-in" in line and line.count("\n") == 1
    # faces only: the resized set matches scikit-image's first 100 images, not the non-faces
    from skimage.data import lfw_subset
    raw = torch.from_numpy(lfw_subset()[:100].astype(np.float32))
    mean_here = data.load_lfw_faces(size=25, verbose=False)
    both = torch.cat([mean_here.train.x, mean_here.test.x])[:, 0]
    assert torch.allclose(both.sum(0), raw.sum(0), atol=1e-3)


def test_lfw_bad_test_size_is_an_error():
    with pytest.raises(ValueError, match="n_test"):
        data.load_lfw_faces(n_test=100)


def _bench_faces():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "tools" / "bench_faces.py"
    spec = importlib.util.spec_from_file_location("bench_faces", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_faces_trains_the_chapters_own_model_and_loss():
    FaceVAE, face_loss = _bench_faces().chapter_model_and_loss()
    torch.manual_seed(0)
    model = FaceVAE(3, 64, 128)
    x = torch.rand(2, 3, 64, 64)
    mean, mu, logvar = model(x)
    assert mean.shape == x.shape and mu.shape == logvar.shape == (2, 128)
    terms = face_loss(model, x)
    assert set(terms) == {"loss", "recon", "kl"} and terms["loss"].shape == (2,)
    assert torch.allclose(terms["loss"], terms["recon"] + terms["kl"])


def test_bench_faces_update_appends_then_replaces_only_its_section(tmp_path):
    bench = _bench_faces()
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\nsomeone else's table\n")
    result = {"machine": "device: cpu", "data": "LFW", "images": 8, "epochs": 1, "batch_size": 4,
              "images_per_s": 10.0, "celeba_epoch_s": 16277.0}
    bench.update(md, bench.markdown(result))
    bench.update(md, bench.markdown({**result, "images_per_s": 20.0, "celeba_epoch_s": 8138.5}))
    text = md.read_text()
    assert text.startswith("# Benchmarks\n\nsomeone else's table\n")
    assert text.count(bench.BEGIN) == 1 and "20 images/s" in text and "10 images/s" not in text


# --- layouts, cache, bad arguments ------------------------------------------------------------

def make_kaggle_celeba(folder, n=N):
    """CelebA as Kaggle's jessicali9530/celeba-dataset unzips: images one folder deeper, CSVs."""
    truth = make_celeba(folder / "img_align_celeba", n=n)
    inner = folder / "img_align_celeba"
    attr_txt, part_txt = inner / "list_attr_celeba.txt", inner / "list_eval_partition.txt"
    lines = attr_txt.read_text().splitlines()
    csv = ["image_id," + ",".join(lines[1].split())]
    csv += [",".join(line.split()) for line in lines[2:]]
    (folder / "list_attr_celeba.csv").write_text("\n".join(csv) + "\n")
    (folder / "list_eval_partition.csv").write_text(
        "image_id,partition\n" + "".join(",".join(line.split()) + "\n"
                                         for line in part_txt.read_text().splitlines()))
    attr_txt.unlink()
    part_txt.unlink()
    return truth


def test_celeba_kaggle_layout_gives_the_same_faces_and_attributes(tmp_path):
    make_celeba(tmp_path / "official" / "celeba")
    make_kaggle_celeba(tmp_path / "kaggle" / "celeba")
    official = data.load_celeba(size=8, root=tmp_path / "official", workers=1, verbose=False)
    kaggle = data.load_celeba(size=8, root=tmp_path / "kaggle", workers=1, verbose=False)
    assert torch.equal(official.train.x, kaggle.train.x)
    assert torch.equal(official.test_attr, kaggle.test_attr)
    assert official.attr_names == kaggle.attr_names == ATTR_NAMES
    assert "list_eval_partition.csv" in kaggle.source


def test_celeba_not_found_names_both_layouts_it_looks_for(tmp_path):
    (tmp_path / "celeba" / "img_align_celeba").mkdir(parents=True)  # images but no attributes
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_celeba(root=tmp_path, download=False)
    message = str(err.value)
    assert f"{tmp_path / 'celeba'} (holds neither layout: img_align_celeba/*.jpg with " \
           "list_attr_celeba.txt or img_align_celeba/img_align_celeba/*.jpg with " \
           "list_attr_celeba.csv)" in message
    assert "Kaggle's copy (jessicali9530/celeba-dataset) works too" in message


def test_celeba_edited_attribute_file_is_read_again_not_taken_from_the_cache(torchvision_layout):
    root, (_, attr, part) = torchvision_layout
    first = data.load_celeba(size=8, root=root, workers=1, verbose=False)
    path = root / "celeba" / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    flipped = lines[:2] + [row.split()[0] + " " + " ".join(str(-int(v)) for v in row.split()[1:])
                           for row in lines[2:]]
    path.write_text("\n".join(flipped) + "\n")
    second = data.load_celeba(size=8, root=root, workers=1, verbose=False)
    assert torch.equal(second.train_attr, -first.train_attr)
    assert torch.equal(second.train.x, first.train.x)  # the images still come from the cache


def test_celeba_cache_of_other_files_is_rebuilt(torchvision_layout, capsys):
    root, _ = torchvision_layout
    data.load_celeba(size=8, root=root, workers=1, verbose=False)
    images = root / "celeba" / "img_align_celeba"
    (images / "000001.jpg").rename(images / "000021.jpg")  # same count, another file
    path = root / "celeba" / "list_attr_celeba.txt"
    path.write_text(path.read_text().replace("000001.jpg", "000021.jpg"))
    (root / "celeba" / "list_eval_partition.txt").write_text(
        (root / "celeba" / "list_eval_partition.txt").read_text().replace("000001.jpg",
                                                                          "000021.jpg"))
    data.load_celeba(size=8, root=root, workers=1)
    out = capsys.readouterr().out
    assert "rebuilding the cache" in out and "built with files=" in out


def test_celeba_crop_larger_than_the_images_is_refused_not_padded_black(torchvision_layout):
    root, _ = torchvision_layout
    with pytest.raises(ValueError, match=r"crop=200 is larger than CelebA's images \(178 x 218 "
                                         r"pixels.*pad them with black. Pass crop <= 178"):
        data.load_celeba(size=8, root=root, crop=200, workers=1)
    assert not (root / "celeba_8.pt").exists()


def test_celeba_limits_keep_the_first_images_and_negative_limits_are_refused(torchvision_layout):
    root, _ = torchvision_layout
    full = data.load_celeba(size=8, root=root, workers=1, verbose=False)
    cut = data.load_celeba(size=8, root=root, workers=1, verbose=False, limit_train=5,
                           limit_test=100)
    assert torch.equal(cut.train.x, full.train.x[:5]) and len(cut.test) == len(full.test)
    assert cut.train_attr.shape == (5, 40)
    with pytest.raises(ValueError, match=r"limit_train must be a whole number >= 1 .*got -1"):
        data.load_celeba(size=8, root=root, workers=1, limit_train=-1)


def test_load_faces_without_celeba_uses_lfw_and_says_why_in_one_line(tmp_path, monkeypatch,
                                                                     capsys):
    """Chapter 08 used to open with a 25-line raw download error."""
    import torchvision.datasets

    class Offline:
        def __init__(self, *args, **kwargs):
            raise ConnectionError("HTTPSConnectionPool(host='drive.google.com', port=443): Max "
                                  "retries exceeded (Caused by NameResolutionError(\"Failed to "
                                  "resolve 'drive.google.com' ([Errno -2] Name or service not "
                                  "known)\"))")
    monkeypatch.setattr(torchvision.datasets, "CelebA", Offline)
    ds = data.load_faces(root=tmp_path, download=True, limit_train=50)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    assert out.startswith("Faces: 50 train / 20 test images from scikit-image's 100 real LFW "
                          "faces (25x25 grey, resized to 32x32), a stand-in: CelebA is not in ")
    assert out.strip().endswith("(download failed: no network)")
    assert ds.name == "LFW faces (stand-in)" and ds.train.x.shape == (50, 1, 32, 32)
    assert "a stand-in: CelebA is not in" in ds.source


def test_load_faces_with_celeba_there_is_celeba(torchvision_layout, capsys):
    root, _ = torchvision_layout
    ds = data.load_faces(size=8, root=root, workers=1)
    assert ds.name == "CelebA" and ds.train.x.shape[1:] == (3, 8, 8)
    assert "CelebA: 12 train / 5 test faces" in capsys.readouterr().out


def test_load_faces_never_replaces_a_broken_celeba(torchvision_layout):
    root, _ = torchvision_layout
    (root / "celeba" / "img_align_celeba" / "000007.jpg").unlink()
    with pytest.raises(data.DataNotFoundError, match="1 of the 20 images .* missing"):
        data.load_faces(size=8, root=root, workers=1)


@pytest.mark.parametrize("loader", [data.load_celeba, data.load_lfw_faces, data.load_faces])
@pytest.mark.parametrize("size, message", [
    (0, r"size must be a whole number >= 1 \(output height and width in pixels, e.g. 64\), "
        r"got 0"),
    (32.5, r"size must be a whole number >= 1 .*got 32.5; convert it: size=int"),
    ("64", r"size must be a whole number .*got '64'; pass a number, not a string"),
])
def test_face_loaders_refuse_a_bad_size(tmp_path, loader, size, message):
    with pytest.raises(ValueError, match=message):
        loader(size)
