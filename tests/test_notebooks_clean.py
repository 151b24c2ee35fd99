"""The notebooks as stored in the repository: clean, with the standard setup cell, and listed
in the book's table of contents. (Whether they *run* is tested by nbval on the notebooks.)"""
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
# Chapters and the generated exercises are committed without outputs. Solutions are too,
# except their check cells (`# NBVAL_CHECK_OUTPUT`), which keep the one line nbval compares.
CLEAN_NOTEBOOKS = sorted([*CHAPTERS, *(ROOT / "exercises").glob("*.ipynb")])
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"

sys.path.insert(0, str(ROOT / "tools"))
import setup_cells  # noqa: E402  (tools/setup_cells.py generates the setup cells)
import execute_book  # noqa: E402  (tools/execute_book.py reads the table of contents)

SETUP_NOTEBOOKS = setup_cells.notebooks(ROOT)


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_entries():
    return list(execute_book.toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text())))


def _first_code_cell(nb):
    return next(c for c in nb.cells if c.cell_type == "code")


def test_cell_timeout_leaves_room_for_a_busy_machine():
    # The per-cell limit must not be what fails `make book` on a loaded machine: chapter 10's
    # training cell takes about 200 s on 2 idle cores, and loaded cells ran up to 12x slower.
    timeout = _config()["execute"]["timeout"]
    assert timeout == -1 or timeout >= 3600, \
        f"execute.timeout is {timeout} s in _config.yml; a loaded machine needs >= 3600 (or -1)"


def test_there_are_chapter_notebooks():
    assert CHAPTERS, f"no notebooks found in {ROOT / 'chapters'}"


def _dirty_cells(nb, allowed=lambda cell: False):
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not allowed(c)
            and (c.get("outputs") or c.get("execution_count") is not None)]


@pytest.mark.parametrize("path", CLEAN_NOTEBOOKS, ids=_ids(CLEAN_NOTEBOOKS))
def test_notebook_is_stored_without_outputs_or_execution_counts(path):
    dirty = _dirty_cells(nbformat.read(path, as_version=4))
    assert not dirty, (f"{path.name}: code cells {dirty} hold outputs or execution counts; "
                       f"run `python tools/strip_outputs.py {path.relative_to(ROOT)}`")


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_keeps_outputs_only_in_its_check_cells(path):
    nb = nbformat.read(path, as_version=4)
    dirty = _dirty_cells(nb, allowed=lambda c: c.source.lstrip().startswith(CHECK_MARKER))
    assert not dirty, (f"{path.name}: code cells {dirty} hold outputs or execution counts but "
                       f"are not `{CHECK_MARKER}` check cells")
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARKER):
            kinds = {o.get("output_type") for o in cell.get("outputs", [])}
            assert kinds <= {"stream"}, f"{path.name}: a check cell stores {kinds} outputs"


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_uses_the_python3_kernel(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_first_code_cell_is_the_standard_setup_cell(path):
    expected = setup_cells.setup_cell(*setup_cells.repository(ROOT / "_config.yml"))
    source = _first_code_cell(nbformat.read(path, as_version=4)).source.strip()
    assert source == expected, (f"{path.name}: the first code cell must be, verbatim:\n{expected}"
                                "\n(`python tools/setup_cells.py` writes it)")


@pytest.mark.parametrize("path", SETUP_NOTEBOOKS, ids=_ids(SETUP_NOTEBOOKS))
def test_setup_cell_agrees_with_the_repository_in_config(path):
    url, branch = setup_cells.repository(ROOT / "_config.yml")
    stale = setup_cells.sync([path], url, branch, write=False)
    assert not stale, (f"{path.name}: its setup cell does not install from {url}@{branch} "
                       "(_config.yml); run `python tools/setup_cells.py`")


def _tiny_notebook(path, url="https://github.com/a/b", branch="main"):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 01 · Tiny"),
        nbformat.v4.new_code_cell(setup_cells.setup_cell(url, branch)),
        nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, path)
    return path


def test_setup_cell_check_fails_when_the_config_names_another_repository(tmp_path):
    notebook = _tiny_notebook(tmp_path / "01_tiny.ipynb")
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/fork/vae.git\n  branch: dev\n")
    url, branch = setup_cells.repository(config)
    assert (url, branch) == ("https://github.com/fork/vae", "dev")
    assert setup_cells.main(["--check", "--config", str(config), str(notebook)]) == 1
    assert setup_cells.main(["--config", str(config), str(notebook)]) == 0  # rewrites it
    assert setup_cells.sync([notebook], url, branch, write=False) == []
    cells = nbformat.read(notebook, as_version=4).cells
    assert "git+https://github.com/fork/vae@dev" in cells[1].source
    assert [c.source for c in cells[::2]] == ["# 01 · Tiny", "x = 1"]  # nothing else touched


FORK_CONFIG = """# The book
title: x
# The course's public address.
repository:
  url: ""   # none yet
  branch: main
  path_to_book: ""

launch_buttons:
  colab_url: "https://colab.research.google.com"
"""


def test_one_command_sets_a_forks_address_in_config_and_setup_cells_together(tmp_path):
    """`setup_cells.py --repository URL --branch B`: the fork's one documented command."""
    notebook = _tiny_notebook(tmp_path / "01_tiny.ipynb", url="", branch="")
    assert "git+" not in nbformat.read(notebook, as_version=4).cells[1].source
    config = tmp_path / "_config.yml"
    config.write_text(FORK_CONFIG)
    assert setup_cells.main(["--config", str(config), "--repository",
                             "https://github.com/me/fork", "--branch", "dev", str(notebook)]) == 0
    assert setup_cells.repository(config) == ("https://github.com/me/fork", "dev")
    text = config.read_text()
    assert "# none yet" in text and "# The course's public address." in text  # comments kept
    assert yaml.safe_load(text)["launch_buttons"] == {"colab_url": "https://colab.research.google.com"}
    source = nbformat.read(notebook, as_version=4).cells[1].source
    assert 'git+https://github.com/me/fork@dev"' in source and "google.colab" in source
    assert setup_cells.main(["--check", "--config", str(config), str(notebook)]) == 0
    # ... and back to no public address: the cell no longer names any URL.
    assert setup_cells.main(["--config", str(config), "--repository", "", str(notebook)]) == 0
    assert setup_cells.repository(config)[0] == ""
    source = nbformat.read(notebook, as_version=4).cells[1].source
    assert "https://" not in source and "pip install -e ." in source


@pytest.mark.parametrize("url", ["github.com/a/b", "https://gitlab.com/a/b", "https://github.com/a"])
def test_setting_an_address_that_is_not_a_github_repository_is_refused(tmp_path, url):
    config = tmp_path / "_config.yml"
    config.write_text(FORK_CONFIG)
    with pytest.raises(ValueError, match="github.com/<owner>/<repo>"):
        setup_cells.set_repository(config, url, "main")
    assert config.read_text() == FORK_CONFIG  # nothing written


def test_setup_cell_tool_refuses_a_notebook_without_a_setup_cell(tmp_path):
    path = tmp_path / "bare.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    with pytest.raises(ValueError, match="not the setup cell"):
        setup_cells.sync([path], "https://github.com/a/b", "main", write=True)
    assert nbformat.read(path, as_version=4).cells[0].source == "x = 1"


@pytest.mark.parametrize("text, words", [("title: x\n", "repository.url"),
                                          ("repository:\n  url: github.com/a/b\n", "https"),
                                          ("repository:\n  url: https://github.com/a/b\n",
                                           "branch")])
def test_setup_cell_tool_names_what_is_missing_in_config(tmp_path, text, words):
    config = tmp_path / "_config.yml"
    config.write_text(text)
    with pytest.raises(ValueError, match=words):
        setup_cells.repository(config)


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_setup_cell_installs_from_the_books_repository_or_names_none(path):
    """With a public repository, the setup cell installs from exactly it; without one (an
    empty repository.url), it names no address at all, which would lead nowhere."""
    url = (_config()["repository"]["url"] or "").removesuffix(".git")
    source = _first_code_cell(nbformat.read(path, as_version=4)).source
    match = re.search(r"git\+(https://[^@\"\s]+)@([\w.\-/]+)", source)
    if url:
        assert match, f"{path.name}: no `git+https://...@branch` install URL in the setup cell"
        assert match.group(1).removesuffix(".git") == url
    else:
        assert "https://" not in source, (f"{path.name}: the setup cell names an address, but "
                                          "_config.yml names no public repository")


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_prose_does_not_promise_a_colab_install_without_a_repository(path):
    """Without a public repository the setup cell installs nothing on Colab, so no chapter's
    text may say that it does."""
    if (_config()["repository"]["url"] or "").strip():
        pytest.skip("_config.yml names a public repository: the setup cell installs from it")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            text = " ".join(cell.source.split())
            assert not re.search(r"installs (the course's helper package )?`course_utils`",
                                 text), (f"{path.name}: the text says the setup cell installs "
                                         "course_utils, but with no repository.url it only "
                                         "imports it")
