"""Execute a notebook (without touching the original) and save its figures as PNG files.

Usage:
    python tools/run_notebook.py chapters/01_autoencoders.ipynb [--out /tmp/nb01]

Writes ``<out>/executed.ipynb`` and ``<out>/fig_<cell>_<k>.png`` for every image output,
and prints each cell's wall-clock time, so a figure can be opened and looked at. The
profile comes from ``COURSE_PROFILE`` as usual.
"""
import argparse
import os
import base64
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main():
    # The notebook's kernel must use the inline backend, or no figure is captured.
    os.environ.pop("MPLBACKEND", None)
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--out", default=None)
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()
    path = Path(args.notebook).resolve()
    out = Path(args.out or f"/tmp/run_{path.stem}")
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t0 = time.perf_counter()
            client.execute_cell(cell, i)
            print(f"cell {i:3d}: {time.perf_counter() - t0:6.1f} s")
    print(f"total: {time.perf_counter() - start:.1f} s")
    nbformat.write(nb, out / "executed.ipynb")
    n = 0
    for i, cell in enumerate(nb.cells):
        for k, o in enumerate(cell.get("outputs", [])):
            data = o.get("data", {})
            if "image/png" in data:
                (out / f"fig_{i:03d}_{k}.png").write_bytes(base64.b64decode(data["image/png"]))
                n += 1
    print(f"{n} figure(s) and executed.ipynb written to {out}")


if __name__ == "__main__":
    main()
