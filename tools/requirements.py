"""Write requirements.txt from pyproject.toml (runtime needs plus the book and test extras).

pyproject.toml is the one place dependencies are written; requirements.txt is derived from it
for ``pip install -r requirements.txt``. Usage::

    python tools/requirements.py          # rewrite requirements.txt
    python tools/requirements.py --check  # exit 1 if requirements.txt is out of date
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("# Generated from pyproject.toml by tools/requirements.py; edit pyproject.toml, not this.\n"
          "# Lower bounds only (see STYLE.md): nothing is pinned unless a known break forces it.\n")


def render(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """requirements.txt's text: runtime dependencies, then each optional group."""
    project = tomllib.loads(pyproject.read_text())["project"]
    groups = [("course_utils and the notebooks", project["dependencies"])]
    groups += [(f"extra [{name}]", deps)
               for name, deps in project.get("optional-dependencies", {}).items()]
    lines = [HEADER]
    for title, deps in groups:
        lines.append(f"# {title}\n")
        lines.extend(f"{dep}\n" for dep in deps)
    return "".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    args = ap.parse_args()
    target = ROOT / "requirements.txt"
    text = render()
    if args.check:
        if target.read_text() != text:
            print("requirements.txt is out of date: run python tools/requirements.py",
                  file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
