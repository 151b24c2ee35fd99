"""Execute the book's notebooks side by side, then let ``jupyter-book build`` use the results.

``make book`` runs this before ``jupyter-book build``. jupyter-book (myst-nb) executes the
notebooks one after another while it reads the pages; on a machine with two or more cores,
kernels running side by side finish sooner: on 2 CPU cores one epoch of the course's MLP VAE
takes 2.95 s with 2 threads but 4.56 s with 1, so two 1-thread kernels do about 1.3x the
work of one 2-thread kernel, and the parts of a notebook that use one core (Python loops,
plotting, kernel start) run twice as fast side by side.

What it does, for the book in ``BOOK`` (default: the repository):

1. lists the notebooks the build executes: the ``.ipynb`` files of ``_toc.yml``, less
   ``execute.exclude_patterns`` of ``_config.yml`` (the exercises);
2. runs them in ``--jobs`` kernels at once (longest first, by the previous run's times), each
   in the notebook's own folder as myst-nb does, with the book's ``execute.timeout`` and no
   errors allowed; ``COURSE_THREADS`` (if set) is every kernel's thread count, otherwise the
   cores are shared out (``cores // jobs``, at least 1);
3. stores the executed notebooks in a fresh jupyter-cache, ``<BOOK>/_build/.jupyter_cache``;
4. writes ``<BOOK>/_build/_config_executed.yml``: ``_config.yml`` with ``execute_notebooks:
   cache`` pointing at that cache (and the local extensions' folders made absolute), so that
   ``jupyter-book build BOOK --config BOOK/_build/_config_executed.yml`` takes every page's
   outputs from this run and executes nothing.

``_config.yml`` itself keeps ``execute_notebooks: force``: a plain ``jupyter-book build .``
still executes every notebook itself, one after another.

Prints one line per notebook in myst-nb's own words, ``<path>: Executed notebook in 12.98
seconds`` (``tools/book_times.py`` reads them); a notebook that raises or runs over the time
limit is reported with its cell and error, and the script exits 1 after the others finish.

Usage: ``python tools/execute_book.py [BOOK] [--jobs 2]``.
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path("_build") / ".jupyter_cache"
CONFIG_OUT = Path("_build") / "_config_executed.yml"


def toc_files(node):
    """Every ``file:`` (and the ``root:``) named anywhere in a parsed ``_toc.yml``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                yield value
            else:
                yield from toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from toc_files(item)


def book_notebooks(book: Path) -> list[Path]:
    """The notebooks ``jupyter-book build`` executes: in ``_toc.yml``, not excluded."""
    config = yaml.safe_load((book / "_config.yml").read_text()) or {}
    excluded = (config.get("execute") or {}).get("exclude_patterns") or []
    notebooks = []
    for name in toc_files(yaml.safe_load((book / "_toc.yml").read_text())):
        path = book / (name if name.endswith(".ipynb") else f"{name}.ipynb")
        rel = path.relative_to(book).as_posix()
        if path.is_file() and not any(fnmatch.fnmatch(rel, p) for p in excluded):
            notebooks.append(path)
    return notebooks


def kernel_threads(jobs: int) -> int:
    """Each kernel's thread count: ``COURSE_THREADS`` if set, else cores // jobs (>= 1)."""
    value = os.environ.get("COURSE_THREADS")
    if value is None:
        return max(1, (os.cpu_count() or 1) // jobs)
    if not value.strip().isdigit() or int(value) < 1:   # as course_utils.runtime says it
        raise ValueError(f"COURSE_THREADS must be a positive integer, got {value!r}.")
    return int(value)


def _run_one(notebook: Path, out: Path, timeout: int) -> int:
    """``--one``: execute one notebook in its folder; write it (with outputs) to ``out``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            record_timing=False, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    try:
        client.execute(cwd=str(notebook.parent))
    except (CellExecutionError, CellTimeoutError) as err:
        print(f"{notebook}: execution failed: {err}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    out.write_text(json.dumps({"seconds": seconds, "notebook": nb}))
    return 0


def previous_seconds(cache_path: Path) -> dict[str, float]:
    """Seconds each notebook took in the run stored in ``cache_path`` (empty if none)."""
    if not (cache_path / "global.db").exists():
        return {}
    from jupyter_cache import get_cache

    return {record.uri: float(record.data.get("execution_seconds") or 0)
            for record in get_cache(str(cache_path)).list_cache_records()}


def write_config(book: Path) -> Path:
    """``_config.yml`` with ``execute_notebooks: cache`` on this run's cache, for the build."""
    config = yaml.safe_load((book / "_config.yml").read_text()) or {}
    execute = config.setdefault("execute", {})
    execute["execute_notebooks"] = "cache"
    execute["cache"] = str((book / CACHE).resolve())
    sphinx = config.get("sphinx") or {}
    local = sphinx.get("local_extensions") or {}
    # jupyter-book resolves these against the config file's folder, not the book's
    for name, folder in local.items():
        local[name] = str((book / folder).resolve())
    out = book / CONFIG_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Written by tools/execute_book.py from _config.yml; do not edit.\n"
                   + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return out


def execute_book(book: Path, jobs: int) -> int:
    """Execute the book's notebooks, fill the cache, write the config; 0 when all ran."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs}")
    config = yaml.safe_load((book / "_config.yml").read_text()) or {}
    timeout = int((config.get("execute") or {}).get("timeout") or 1800)
    notebooks = book_notebooks(book)
    if not notebooks:
        raise ValueError(f"{book}/_toc.yml lists no notebook to execute")
    cache_path = book / CACHE
    before = previous_seconds(cache_path)
    # longest first, so that the short ones fill the other kernels at the end
    notebooks.sort(key=lambda p: -before.get(str(p), float("inf")))
    threads = kernel_threads(jobs)
    env = {**os.environ, "COURSE_THREADS": str(threads)}
    print(f"executing {len(notebooks)} notebooks, {jobs} at a time, {threads} thread(s) each",
          flush=True)

    def run(path: Path, scratch: Path):
        out = scratch / f"{path.stem}.json"
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one",
                               str(path), "--out", str(out), "--timeout", str(timeout)],
                              env=env, cwd=path.parent, capture_output=True, text=True)
        return path, proc, out

    results, failed = {}, []
    with tempfile.TemporaryDirectory(prefix="execute-book-") as tmp, \
            futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for done in futures.as_completed([pool.submit(run, p, Path(tmp)) for p in notebooks]):
            path, proc, out = done.result()
            rel = path.relative_to(book).as_posix()
            if proc.returncode != 0 or not out.exists():
                failed.append(rel)
                print(f"{rel}: FAILED (exit {proc.returncode})\n{proc.stderr[-4000:]}",
                      file=sys.stderr, flush=True)
                continue
            result = json.loads(out.read_text())
            results[path] = result
            print(f"{path}: Executed notebook in {result['seconds']:.2f} seconds", flush=True)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}; the book was not built",
              file=sys.stderr)
        return 1
    shutil.rmtree(cache_path, ignore_errors=True)       # only this run's notebooks in it
    cache = get_cache(str(cache_path))
    for path, result in results.items():
        executed = nbformat.from_dict(result["notebook"])
        cache.cache_notebook_bundle(CacheBundleIn(executed, str(path),
                                                  data={"execution_seconds": result["seconds"]}),
                                    check_validity=False, overwrite=True)
    write_config(book)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book", nargs="?", default=str(ROOT), help="the book's folder")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="kernels at once (default: 2, or 1 on one core)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=int, default=1800, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return _run_one(Path(args.one), Path(args.out), args.timeout)
    return execute_book(Path(args.book).resolve(), args.jobs)


if __name__ == "__main__":
    sys.exit(main())
