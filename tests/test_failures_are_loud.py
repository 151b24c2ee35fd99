"""A failing notebook must fail the tests and the book build, not pass quietly.

nbval and myst-nb both have modes in which an exception in a cell is only reported (nbval
compares outputs; myst-nb merely *warns* on execution errors unless told otherwise). These
tests run the real tools, as subprocesses of this interpreter, on a tiny notebook whose
second cell raises, and on the same notebook fixed (so a tool that fails on everything does
not pass them either).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MARKER = "deliberately broken"


def _jupyter_book() -> str:
    exe = BIN / "jupyter-book"
    if exe.exists():
        return str(exe)
    found = shutil.which("jupyter-book")
    if found is None:
        pytest.fail("jupyter-book is not installed next to this Python; "
                    "`pip install -r requirements.txt` installs it")
    return found


def _write_notebook(path: Path, *, broken: bool) -> Path:
    second = f'raise RuntimeError("{MARKER}")' if broken else 'print("x + 1 =", x + 1)'
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# A tiny notebook"),
               nbformat.v4.new_code_cell("x = 1"),
               nbformat.v4.new_code_cell(second)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nbformat.write(nb, path)
    return path


def _run(args, cwd, timeout=120):
    env = {**os.environ, "TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_nbval_lax_fails_on_a_notebook_cell_that_raises_and_passes_the_fixed_one(tmp_path):
    """One nbval run over both notebooks (one interpreter start): the broken one's raising
    cell fails, both cells of the fixed one pass."""
    _write_notebook(tmp_path / "broken.ipynb", broken=True)
    _write_notebook(tmp_path / "working.ipynb", broken=False)
    result = _run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
                   "--nbval-lax", "broken.ipynb", "working.ipynb"], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert MARKER in output
    assert "FAILED broken.ipynb::Cell 1" in output and "PASSED broken.ipynb::Cell 0" in output
    # both code cells of the fixed notebook really ran
    assert "PASSED working.ipynb::Cell 0" in output and "PASSED working.ipynb::Cell 1" in output
    assert "1 failed, 3 passed" in output, output


def _tiny_book(folder: Path, *, broken: bool) -> Path:
    """A book with the project's own _config.yml, a landing page and one notebook."""
    folder.mkdir()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "force", "the book must execute notebooks"
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    # Sphinx extensions that live in the repository (paths relative to the book root).
    # Several extensions may share one folder (e.g. _ext): copy each folder once.
    for path in set(((config.get("sphinx") or {}).get("local_extensions") or {}).values()):
        source = ROOT / path
        if source.is_dir():
            shutil.copytree(source, folder / path, ignore=shutil.ignore_patterns("__pycache__"),
                            dirs_exist_ok=True)
        else:
            shutil.copy(source, folder / path)
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                     "  - file: tiny\n")
    (folder / "intro.md").write_text("# A tiny book\n\nBuilt by the tests.\n")
    _write_notebook(folder / "tiny.ipynb", broken=broken)
    return folder


@pytest.mark.slow
def test_book_build_with_the_project_config_fails_on_a_broken_notebook(tmp_path):
    """No -W here: the project's _config.yml alone must make a plain `jupyter-book build`
    fail, and `make book`'s first step (tools/execute_book.py) stops, naming the notebook and
    its error, before anything is built."""
    book = _tiny_book(tmp_path / "book", broken=True)
    result = _run([_jupyter_book(), "build", str(book)], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "the book built although a notebook raised:\n" + output[-3000:]
    assert MARKER in output
    result = _run([sys.executable, str(ROOT / "tools" / "execute_book.py"), str(book)], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "tiny.ipynb: FAILED" in output and MARKER in output and "the book was not built" in output
    assert not (book / "_build" / "_config_executed.yml").exists()


@pytest.mark.slow
def test_book_build_with_the_project_config_succeeds_on_a_working_notebook(tmp_path):
    """The control, built as `make book` builds: tools/execute_book.py executes the fixed
    notebook, then `jupyter-book build -W` (as in CI) takes its outputs from that run without
    executing it again, and the page shows the output of the executed cell."""
    book = _tiny_book(tmp_path / "book", broken=False)
    result = _run([sys.executable, str(ROOT / "tools" / "execute_book.py"), str(book)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{book / 'tiny.ipynb'}: Executed notebook in " in result.stdout
    result = _run([_jupyter_book(), "build", "-W", "--keep-going", str(book), "--config",
                   str(book / "_build" / "_config_executed.yml")], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "tiny.ipynb: Using cached notebook" in output and "Executing notebook" not in output
    page = (book / "_build" / "html" / "tiny.html").read_text()
    assert "x + 1 = 2" in page
