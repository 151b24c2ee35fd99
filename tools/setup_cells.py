"""The course's public address, in one place: ``_config.yml`` and every notebook's setup cell.

    python tools/setup_cells.py                # rewrite the setup cells that disagree
    python tools/setup_cells.py --check        # list them and exit 1 (a test runs this check)
    python tools/setup_cells.py --repository https://github.com/<you>/<repo> --branch main
                                               # a fork: set its address, then rewrite

The address is written once, in ``_config.yml``::

    repository:
      url: https://github.com/<owner>/<repo>   # '' while the course has no public home
      branch: main

From it, Jupyter Book builds each chapter's Colab button and a repository button
(``_ext/book_pages.py``; none while ``url`` is empty), and this tool writes the first code
cell of every notebook in ``chapters/``, ``solutions/`` and ``exercises/``:

* with a repository, the cell installs the course package on Colab only, from that
  repository and branch (torch is already there, so pip keeps it), and does nothing else;
* without one, the cell imports the package installed from the reader's copy of the course
  (``pip install -e .`` in its folder) and says so; no address that leads nowhere.

``--repository URL --branch NAME`` rewrites those two lines of ``_config.yml`` (comments and
everything else kept) and then the setup cells, so config and notebooks change together;
``--repository ''`` goes back to no public address.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("chapters", "solutions", "exercises")
SETUP_PREFIX = "# Setup:"
FIRST_LINE = "# Setup: on Colab only, install the course package (torch is already there)."
SETUP_CELL = FIRST_LINE + '''
import sys
if "google.colab" in sys.modules:
    %pip install -q "course-utils @ git+{url}@{branch}"

import course_utils as cu
device = cu.print_setup(seed=0)'''
LOCAL_SETUP_CELL = '''# Setup: the course package, installed from your copy of the course (`pip install -e .`
# in its folder; the Makefile's targets do it for you).
import course_utils as cu
device = cu.print_setup(seed=0)'''
GITHUB = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """``(url, branch)`` from ``repository:`` in ``config``; url '' when there is none.

    A clear error when the section is missing or the URL is not a GitHub repository's.
    """
    repo = (yaml.safe_load(Path(config).read_text()) or {}).get("repository") or {}
    if "url" not in repo:
        raise ValueError(f"{config}: repository.url is missing; set it to the https URL of "
                         "the book's GitHub repository (https://github.com/<owner>/<repo>), "
                         "or to '' while the course has no public home")
    url = str(repo.get("url") or "").strip().rstrip("/").removesuffix(".git")
    branch = repo.get("branch")
    if url and not GITHUB.fullmatch(url):
        raise ValueError(f"{config}: repository.url must be the https URL of the book's GitHub "
                         f"repository (https://github.com/<owner>/<repo>; Colab opens "
                         f"notebooks from GitHub), or '' for none; got {url!r}")
    if url and not branch:
        raise ValueError(f"{config}: repository.branch is missing (e.g. `branch: main`)")
    return url, str(branch or "")


def setup_cell(url: str, branch: str) -> str:
    """The exact source of the setup cell for repository ``url`` at ``branch`` ('' : none)."""
    return SETUP_CELL.format(url=url, branch=branch) if url else LOCAL_SETUP_CELL


def set_repository(config: Path, url: str, branch: str) -> None:
    """Write ``url`` and ``branch`` into ``repository:`` of ``config``, keeping every other line.

    Checks the result: :func:`repository` must read back exactly ``(url, branch)``.
    """
    url = url.strip().rstrip("/").removesuffix(".git")
    if url and not GITHUB.fullmatch(url):
        raise ValueError(f"--repository must be https://github.com/<owner>/<repo> (or '' for "
                         f"none), got {url!r}")
    if url and not branch:
        raise ValueError("--branch is needed with --repository (e.g. --branch main)")
    lines = Path(config).read_text().splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"repository:\s*(#.*)?$", line)),
                 None)
    if start is None:
        raise ValueError(f"{config}: no top-level `repository:` section to write into")
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].strip() and not lines[i].startswith((" ", "\t", "#"))), len(lines))
    values = {"url": f'"{url}"' if not url else url, "branch": branch or "main"}
    for key, value in values.items():
        pattern = re.compile(rf"^(\s+){key}:\s*[^#\n]*?(\s*#.*)?$")
        for i in range(start + 1, end):
            match = pattern.match(lines[i].rstrip("\n"))
            if match:
                lines[i] = f"{match.group(1)}{key}: {value}{match.group(2) or ''}\n"
                break
        else:
            lines.insert(start + 1, f"  {key}: {value}\n")
            end += 1
    Path(config).write_text("".join(lines))
    got = repository(config)
    if got[0] != url or (url and got[1] != (branch or "main")):
        raise RuntimeError(f"{config}: wrote repository {url!r}@{branch!r} but read back {got}")


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook that carries a setup cell (chapters, solutions, exercises)."""
    return sorted(p for folder in FOLDERS for p in (root / folder).glob("*.ipynb"))


def _setup_cell_of(nb, path: Path):
    cell = next((c for c in nb.cells if c.cell_type == "code"), None)
    if cell is None or not cell.source.startswith(SETUP_PREFIX):
        raise ValueError(f"{path}: the first code cell is not the setup cell (it must start "
                         f"with {SETUP_PREFIX!r}); insert one before the other code cells")
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
    parser.add_argument("--repository", default=None, metavar="URL",
                        help="set repository.url in the config first: "
                             "https://github.com/<owner>/<repo>, or '' for none")
    parser.add_argument("--branch", default=None,
                        help="with --repository: the branch Colab opens (default: main)")
    parser.add_argument("paths", nargs="*", help="notebooks (default: chapters, solutions, "
                        "exercises)")
    args = parser.parse_args(argv)
    if args.branch is not None and args.repository is None:
        parser.error("--branch needs --repository (the address and branch are set together)")
    if args.repository is not None:
        if args.check:
            parser.error("--check only reads; drop it to set --repository")
        set_repository(Path(args.config), args.repository, args.branch or "main")
        print(f"{args.config}: repository.url = {args.repository or '(none)'}"
              + (f", branch = {args.branch or 'main'}" if args.repository else ""))
    url, branch = repository(Path(args.config))
    where = f"{url}@{branch}" if url else "no public repository"
    paths = [Path(p) for p in args.paths] or notebooks()
    stale = sync(paths, url, branch, write=not args.check)
    for path in stale:
        verb = "differs from" if args.check else "rewritten from"
        print(f"{path}: setup cell {verb} _config.yml ({where})")
    if args.check and stale:
        print("Run `python tools/setup_cells.py` to regenerate them.")
        return 1
    print(f"{len(paths)} notebooks, {len(stale)} {'stale' if args.check else 'rewritten'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
