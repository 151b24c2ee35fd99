"""Benchmark: training throughput of chapter 08's 64x64 RGB conv VAE on this device.

Developer tooling, not part of the ``course_utils`` package. The model and the loss are
*the chapter's own*: the cells defining ``FaceVAE`` and ``face_loss`` are read from
``chapters/08_faces.ipynb`` and executed here, so the numbers cannot drift from the book.

Data: CelebA (64x64 RGB, via :func:`course_utils.data.load_celeba`) when it is present,
else the 100 LFW faces of scikit-image resized to 64x64 and repeated in three channels
(the same pixels' cost as CelebA; the output says which). Training runs through
:func:`course_utils.train.fit` (whole tensors on the device, bfloat16 autocast on CUDA),
batch 128, latent 128, Adam 1e-3, after one warm-up epoch. Printed: images/s and the
seconds a CelebA-size epoch (162,770 training images) would take at that rate, with
:func:`course_utils.runtime.describe`. ``--update BENCHMARKS.md`` appends (or replaces) its
own clearly marked section at the end of that file, leaving the rest untouched.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's course_utils
from course_utils import data, describe, get_device, seed_everything, train  # noqa: E402

CELEBA_TRAIN = 162_770
NOTEBOOK = ROOT / "chapters" / "08_faces.ipynb"
BEGIN, END = "<!-- bench_faces: begin -->", "<!-- bench_faces: end -->"


def chapter_model_and_loss(notebook: Path = NOTEBOOK):
    """``(FaceVAE, face_loss)`` executed from the chapter's own cells."""
    cells = json.loads(notebook.read_text())["cells"]
    namespace = {}
    exec("import math\nimport torch\nfrom torch import nn\nfrom course_utils import losses, models",
         namespace)
    for marker in ("class FaceVAE", "def face_loss"):
        source = [c for c in cells if c["cell_type"] == "code" and marker in "".join(c["source"])]
        if len(source) != 1:
            raise SystemExit(f"{notebook}: expected one cell with {marker!r}, found {len(source)}")
        exec("".join(source[0]["source"]), namespace)
    return namespace["FaceVAE"], namespace["face_loss"]


def face_images(n: int):
    """``(x: (n, 3, 64, 64) float32 in [0, 1], label)``: CelebA if present, else LFW resized."""
    try:
        faces = data.load_celeba(size=64, limit_train=n, limit_test=1, download=False)
        x, label = faces.train.x, f"CelebA 64x64 RGB ({len(faces.train):,} images)"
    except data.DataNotFoundError:
        faces = data.load_lfw_faces(size=64)
        x = torch.cat([faces.train.x, faces.test.x]).expand(-1, 3, -1, -1)
        label = ("LFW stand-in: scikit-image's 100 faces resized 25x25 -> 64x64, grey repeated "
                 "in 3 channels (CelebA not found)")
    reps = -(-n // len(x))
    return x.repeat(reps, 1, 1, 1)[:n].contiguous(), label


def measure(n: int, epochs: int, batch_size: int = 128, latent_dim: int = 128) -> dict:
    seed_everything(0)
    device = get_device()
    FaceVAE, face_loss = chapter_model_and_loss()
    x, label = face_images(n)
    split = data.Split(x, torch.zeros(len(x), dtype=torch.int64))
    model = FaceVAE(3, 64, latent_dim)
    warm = data.Split(x[:min(n, 4 * batch_size)], split.y[:min(n, 4 * batch_size)])
    train.fit(model, face_loss, warm, epochs=1, batch_size=batch_size, device=device,
              desc="warm-up")
    history = train.fit(model, face_loss, split, epochs=epochs, batch_size=batch_size,
                        device=device, desc="timed")
    rate = len(split) * history.epochs / sum(history.seconds)
    return {"images_per_s": rate, "celeba_epoch_s": CELEBA_TRAIN / rate, "data": label,
            "images": len(split), "epochs": history.epochs, "batch_size": batch_size,
            "machine": describe(device), "final_train_loss": history.train["loss"][-1]}


def markdown(r: dict) -> str:
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join([
        BEGIN, "", "## Chapter 08: 64x64 RGB conv VAE (tools/bench_faces.py)", "",
        f"Measured {date} with `python tools/bench_faces.py` on: {r['machine']}.", "",
        f"- data: {r['data']}",
        f"- {r['images']:,} images x {r['epochs']} epoch(s), batch {r['batch_size']}, latent 128, "
        f"Adam 1e-3, train.fit (whole tensors on the device; bfloat16 autocast on CUDA)",
        f"- **{r['images_per_s']:,.0f} images/s**, i.e. **{r['celeba_epoch_s']:,.1f} s per "
        f"CelebA-size epoch** (162,770 images)", "", END, ""])


def update(path: Path, fragment: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + fragment.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + fragment
    path.write_text(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    on_gpu = get_device().type == "cuda"
    p.add_argument("--images", type=int, default=32_768 if on_gpu else 512,
                   help="images per timed epoch (default 32,768 on CUDA, 512 otherwise)")
    p.add_argument("--epochs", type=int, default=3 if on_gpu else 1, help="timed epochs")
    p.add_argument("--update", type=Path, default=None, metavar="BENCHMARKS.md",
                   help="append (or replace) this benchmark's section at the end of that file")
    args = p.parse_args(argv)
    r = measure(args.images, args.epochs)
    print(f"data: {r['data']}")
    print(f"{r['images_per_s']:,.0f} images/s -> {r['celeba_epoch_s']:,.1f} s per CelebA-size "
          f"epoch ({CELEBA_TRAIN:,} images); {r['images']:,} images x {r['epochs']} epoch(s), "
          f"batch {r['batch_size']}")
    print(r["machine"])
    if args.update:
        update(args.update, markdown(r))
        print(f"appended the chapter 08 section to {args.update}")
    return r


if __name__ == "__main__":
    main()
