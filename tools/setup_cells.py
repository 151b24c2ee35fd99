"""Generate every notebook's setup cell from the repository named in ``_config.yml``.

    python tools/setup_cells.py           # rewrite the setup cells that disagree
    python tools/setup_cells.py --check   # list them and exit 1 (a test runs this check)

The repository is written in one place, ``_config.yml``::

    repository:
      url: https://github.com/<owner>/<repo>
      branch: main

Jupyter Book builds the Colab launch buttons from it, and this tool writes the same URL
and branch into the first code cell of every notebook in ``chapters/``, ``solutions/`` and
``exercises/``. That cell installs the course package on Colab only (torch is already
there, so pip keeps it) and does nothing elsewhere. A fork changes ``_config.yml`` and runs
this tool once.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("chapters", "solutions", "exercises")
FIRST_LINE = "# Setup: on Colab only, install the course package (torch is already there)."
SETUP_CELL = FIRST_LINE + '''
import sys
if "google.colab" in sys.modules:
    %pip install -q "course-utils @ git+{url}@{branch}"

import course_utils as cu
device = cu.print_setup(seed=0)'''


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """``(url, branch)`` from ``repository:`` in ``config``; a clear error when missing."""
    repo = (yaml.safe_load(Path(config).read_text()) or {}).get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch")
    if not url or not str(url).startswith("https://"):
        raise ValueError(f"{config}: repository.url must be the https URL of the book's "
                         f"repository (e.g. https://github.com/<owner>/<repo>), got {url!r}")
    if not branch:
        raise ValueError(f"{config}: repository.branch is missing (e.g. `branch: main`)")
    return str(url).rstrip("/").removesuffix(".git"), str(branch)


def setup_cell(url: str, branch: str) -> str:
    """The exact source of the setup cell for repository ``url`` at ``branch``."""
    return SETUP_CELL.format(url=url, branch=branch)


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook that carries a setup cell (chapters, solutions, exercises)."""
    return sorted(p for folder in FOLDERS for p in (root / folder).glob("*.ipynb"))


def _setup_cell_of(nb, path: Path):
    cell = next((c for c in nb.cells if c.cell_type == "code"), None)
    if cell is None or not cell.source.startswith(FIRST_LINE):
        raise ValueError(f"{path}: the first code cell is not the setup cell (it must start "
                         f"with {FIRST_LINE!r}); insert one before the other code cells")
    return cell


def sync(paths, url: str, branch: str, write: bool) -> list[Path]:
    """Notebooks whose setup cell differs from ``setup_cell(url, branch)``; fixed if ``write``.

    Only that cell's source changes; outputs, ids and other cells are kept as they are.
    """
    expected = setup_cell(url, branch)
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        cell = _setup_cell_of(nb, path)
        if cell.source.strip() != expected:
            stale.append(path)
            if write:
                cell.source = expected
                nbformat.write(nb, path)
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only report notebooks whose setup cell disagrees (exit 1)")
    parser.add_argument("--config", default=str(ROOT / "_config.yml"))
    parser.add_argument("paths", nargs="*", help="notebooks (default: chapters, solutions, "
                        "exercises)")
    args = parser.parse_args(argv)
    url, branch = repository(Path(args.config))
    paths = [Path(p) for p in args.paths] or notebooks()
    stale = sync(paths, url, branch, write=not args.check)
    for path in stale:
        verb = "differs from" if args.check else "rewritten from"
        print(f"{path}: setup cell {verb} _config.yml ({url}@{branch})")
    if args.check and stale:
        print("Run `python tools/setup_cells.py` to regenerate them.")
        return 1
    print(f"{len(paths)} notebooks, {len(stale)} {'stale' if args.check else 'rewritten'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
