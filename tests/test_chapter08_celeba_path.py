"""Chapter 08's CelebA branch runs, and its checks hold, on a synthetic folder in CelebA's layout.

Without CelebA the chapter trains on the LFW stand-in, and that is the branch nbval runs. The
CelebA branch (the data note, attribute vectors from ``list_attr_celeba.txt``, their AUC on
test faces, and the check that an edit survives decoding and re-encoding) would otherwise
never run anywhere. Here it runs in the smoke profile on synthetic 178 x 218 JPEGs whose four
edited attributes (Smiling, Eyeglasses, Blond_Hair, Male) each paint a visible band, so a
small VAE can learn them in a few dozen steps. The notebook's own asserts are the checks; the
test adds that the page really says it was built from CelebA.
"""
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image

from test_faces_data import ATTR_NAMES

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "08_faces.ipynb"
CROP_TOP, CROP_LEFT = 35, 15          # the 148 x 148 centre crop of a 178 x 218 image
BANDS = {                             # attribute: (rows inside the crop, colour with, colour without)
    "Blond_Hair": ((0, 34), (230, 200, 60), (60, 40, 30)),
    "Eyeglasses": ((48, 72), (10, 10, 10), (200, 160, 140)),
    "Smiling": ((96, 120), (250, 250, 250), (150, 90, 80)),
    "Male": ((124, 148), (40, 40, 40), (200, 160, 140)),
}


def make_synthetic_celeba(folder: Path, n_train=128, n_valid=8, n_test=32, seed=0):
    """Write CelebA's layout into ``folder``: JPEGs, list_attr_celeba.txt, list_eval_partition.txt."""
    images = folder / "img_align_celeba"
    images.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    n = n_train + n_valid + n_test
    attr = rng.choice([-1, 1], size=(n, len(ATTR_NAMES)))
    part = [0] * n_train + [1] * n_valid + [2] * n_test
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for i, name in enumerate(names):
        arr = np.full((218, 178, 3), 120.0)
        arr[CROP_TOP:CROP_TOP + 148, CROP_LEFT:CROP_LEFT + 148] = (200, 160, 140)
        for attribute, ((r0, r1), yes, no) in BANDS.items():
            has = attr[i, ATTR_NAMES.index(attribute)] > 0
            arr[CROP_TOP + r0:CROP_TOP + r1, CROP_LEFT:CROP_LEFT + 148] = yes if has else no
        arr += rng.normal(0, 6, size=arr.shape) + rng.uniform(-15, 15)
        Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(images / name, quality=95)
    lines = [str(n), " ".join(ATTR_NAMES)]
    lines += [f"{name} " + " ".join(f"{v:2d}" for v in row) for name, row in zip(names, attr)]
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{name} {p}\n" for name, p in zip(names, part)))


def glued(nb, name):
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook", {}).get("name") == name:
                return out["data"]["application/papermill.record/text/plain"]
    raise KeyError(name)


@pytest.mark.slow
def test_chapter08_runs_its_celeba_branch_with_all_checks(tmp_path, monkeypatch):
    make_synthetic_celeba(tmp_path / "celeba")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(CHAPTER, as_version=4)
    # every cell must run without error: the notebook's asserts are the checks
    NotebookClient(nb, timeout=1800, kernel_name="python3", shutdown_kernel="immediate",
                   resources={"metadata": {"path": str(CHAPTER.parent)}}).execute()
    assert "This build found CelebA in COURSE_DATA" in glued(nb, "ch08_data_note")
    assert "Smiling" in glued(nb, "ch08_attr_shown")
    printed = "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))
    for attribute in BANDS:
        assert f"{attribute}: share of edited test faces" in printed
    assert "LFW" not in printed          # the stand-in was not used
    assert os.path.isfile(tmp_path / "celeba_64.pt")
