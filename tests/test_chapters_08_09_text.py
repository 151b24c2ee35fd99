"""Chapters 08 and 09 as stored: every glued number in their prose is produced by their code,
every figure has a caption and alt text, and the text cites papers and chapters only.

Static checks of the notebook files (nbval runs the cells). They catch the slips that glue
makes possible: a Markdown cell quoting a key no code cell glues (the book would show a
warning where the number should be), a cell whose last line is a bare ``glue(...)`` (Jupyter
would print the value under the cell), and a figure without a caption or alt text.
"""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = [ROOT / "chapters" / "08_faces.ipynb", ROOT / "chapters" / "09_posterior_collapse.ipynb"]
GLUE_ROLE = re.compile(r"\{glue:[a-z]+\}`([A-Za-z_][A-Za-z0-9_]*)")
GLUE_CALL = re.compile(r"""\bglue\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")


def cells(path, kind):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == kind]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_glued_key_in_the_prose_is_glued_by_the_code(path):
    used = {key for c in cells(path, "markdown") for key in GLUE_ROLE.findall(c.source)}
    glued = [key for c in cells(path, "code") for key in GLUE_CALL.findall(c.source)]
    prefix = path.name[:2]
    assert used, "the chapter's prose quotes no number from its run"
    assert used <= set(glued), f"quoted but never glued: {sorted(used - set(glued))}"
    assert all(key.startswith(f"ch{prefix}_") for key in glued), "keys must start with the chapter"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_cell_ends_with_a_bare_glue_call(path):
    for c in cells(path, "code"):
        last = c.source.rstrip().splitlines()[-1] if c.source.strip() else ""
        assert not last.startswith("glue("), f"cell {c.id} would print its glued value: {last}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_cell_has_a_caption_name_and_alt_text(path):
    figures = [c for c in cells(path, "code") if "plt.show()" in c.source]
    assert figures
    for c in figures:
        meta = c.metadata.get("mystnb", {})
        caption = meta.get("figure", {}).get("caption", "")
        alt = meta.get("image", {}).get("alt", "")
        assert len(caption.split()) >= 8 and len(alt.split()) >= 6, f"cell {c.id}: caption/alt missing"
        assert meta["figure"]["name"].startswith(f"fig-ch{path.name[:2]}-")
        assert c.source.count("plt.show()") == 1, f"cell {c.id}: one figure per cell"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_text_cites_papers_and_chapters_not_seed_material(path):
    text = " ".join(c.source for c in nbformat.read(path, as_version=4).cells).lower()
    for phrase in ("seed material", "seed text", "the seeds"):
        assert phrase not in text
