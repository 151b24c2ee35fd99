"""Put each latent explorer's decoder file next to its page (``course_utils.explorer``).

A chapter that shows an explorer exports its decoder while the build executes it; myst-nb
runs a notebook in the notebook's own folder, so the file lands in ``_explorer/`` beside the
notebook (``chapters/_explorer/ch07_vae2.safetensors``; gitignored, never committed). The
page's placeholder names it relative to the page, with its SHA-256::

    <div class="latent-explorer" data-kind="map" data-assets='[{"src": "_explorer/...",
         "sha256": "...", "title": "..."}]'>

When the build has finished, every built page is scanned for such placeholders and each
named file is copied from beside the notebook to beside the page
(``_build/html/chapters/_explorer/...``). A file that is missing, or whose SHA-256 differs
from the one the page was built with (a later run overwrote it), is reported as a warning
(an error under ``-W``), so a page never ships with a decoder it was not built with.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from pathlib import Path, PurePosixPath

from sphinx.util import logging

logger = logging.getLogger(__name__)
PLACEHOLDER = re.compile(r'<div class="latent-explorer"[^>]*\sdata-assets="([^"]*)"')


def page_assets(page_html: str) -> list[dict]:
    """The asset entries (``src``, ``sha256``, ``title``) of every explorer in one page."""
    entries = []
    for match in PLACEHOLDER.finditer(page_html):
        entries += json.loads(html.unescape(match.group(1)))
    return entries


def copy_assets(srcdir: Path, outdir: Path) -> tuple[list[Path], list[str]]:
    """Copy the assets the built pages in ``outdir`` name from ``srcdir``.

    Returns ``(copied files in outdir, problems)``; nothing is copied for a problem entry.
    """
    copied, problems = [], []
    for page in sorted(Path(outdir).rglob("*.html")):
        if page.relative_to(outdir).parts[0] in ("_static", "_sources", "_images"):
            continue
        folder = page.parent.relative_to(outdir)
        for entry in page_assets(page.read_text(errors="replace")):
            src = PurePosixPath(entry["src"])
            where = page.relative_to(outdir).as_posix()
            if src.is_absolute() or ".." in src.parts:
                problems.append(f"{where}: explorer asset {src} is not inside the page's folder")
                continue
            source = Path(srcdir) / folder / src
            if not source.is_file():
                problems.append(f"{where}: explorer asset {source} was not written (the "
                                "notebook exports it when it runs; was it executed?)")
                continue
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
            if digest != entry.get("sha256"):
                problems.append(f"{where}: {source} changed after the page was built (SHA-256 "
                                f"{digest[:12]}, page expects {str(entry.get('sha256'))[:12]}); "
                                "rebuild the book")
                continue
            target = Path(outdir) / folder / src
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(target)
    return copied, problems


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    copied, problems = copy_assets(Path(app.srcdir), Path(app.outdir))
    for problem in problems:
        logger.warning(problem)
    if copied:
        logger.info(f"latent explorers: {len(copied)} decoder file(s) copied next to their pages")


def setup(app):
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
