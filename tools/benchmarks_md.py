"""Write one script's section of BENCHMARKS.md, leaving every other section as it is.

A section is text whose first line is its start marker and whose last line is its end marker
(``<!-- name:start -->`` ... ``<!-- name:end -->``). Used by ``book_times.py`` and
``bench_explorer.py``.
"""
from __future__ import annotations

from pathlib import Path


def write_section(path: Path, text: str) -> None:
    """Replace the section of ``path`` that ``text`` is (same first and last line), or append
    it; a file holding only one of the two markers is refused (ValueError), not rewritten."""
    start, end = text.split("\n", 1)[0], text.rsplit("\n", 1)[-1]
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    if (start in old) != (end in old):
        raise ValueError(f"{path}: only one of {start} / {end} is present; "
                         "restore the other marker or delete the partial section")
    if start in old:
        head, rest = old.split(start, 1)
        new = head + text + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)
