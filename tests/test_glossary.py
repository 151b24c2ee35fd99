"""glossary.md: every entry has a one-line definition, the chapter that introduces it and its
Japanese term; the terms chapters 08-11 introduce are there."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "glossary.md").read_text()
BLOCK = TEXT[TEXT.index("```{glossary}"):TEXT.rindex("```")]
# An entry (paragraphs of the block): term lines (aliases), then indented definition lines.
ENTRIES = [(m.group(1), m.group(2)) for para in BLOCK.split("\n\n")
           for m in [re.fullmatch(r"((?:[^\s:`][^\n]*\n)+)((?:  [^\n]*\n?)+)", para.strip("\n") + "\n")]
           if m]
TERMS = {term.strip(): body for terms, body in ENTRIES for term in terms.splitlines()}
REQUIRED = ["Dequantisation", "Typicality test", "AUROC", "Codebook", "Commitment loss",
            "Straight-through estimator", "Finite scalar quantisation", "FSQ", "Active unit",
            "Mutual information", "Free bits", "Importance-weighted bound", "IWAE",
            "Out-of-distribution detection"]


def test_the_glossary_block_parses_into_entries():
    assert len(ENTRIES) >= 40, f"only {len(ENTRIES)} glossary entries parsed"


@pytest.mark.parametrize("term", REQUIRED)
def test_term_is_in_the_glossary(term):
    assert term in TERMS, f"glossary.md has no entry {term!r}"


@pytest.mark.parametrize("terms, body", ENTRIES, ids=[t.splitlines()[0] for t, _ in ENTRIES])
def test_entry_has_a_definition_a_chapter_and_a_japanese_term(terms, body):
    lines = [line.strip() for line in body.splitlines()]
    assert len(lines) == 2, f"{terms.strip()!r}: expected a definition line and a source line"
    assert len(lines[0].split()) >= 6, f"{terms.strip()!r}: the definition is too short"
    source = re.fullmatch(r"\*Introduced in\* \{doc\}`[^`<]+<(chapters|exercises)/[\w]+>`\. "
                          r"\*Japanese:\* (.+)", lines[1])
    assert source, f"{terms.strip()!r}: second line must be '*Introduced in* {{doc}}`...` . " \
                   f"*Japanese:* ...', got {lines[1]!r}"
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", source.group(2)), \
        f"{terms.strip()!r}: the Japanese term has no Japanese characters"
    chapter = re.search(r"<((?:chapters|exercises)/\w+)>", lines[1]).group(1)
    assert (ROOT / f"{chapter}.ipynb").is_file(), f"{terms.strip()!r}: no {chapter}.ipynb"
