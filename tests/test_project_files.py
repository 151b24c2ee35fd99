"""The project's own plumbing: one source for dependencies and for the test environment,
and a Makefile whose help lists every target."""
import re
import subprocess
import sys
from pathlib import Path

from conftest import read_smoke_env

ROOT = Path(__file__).resolve().parent.parent


def test_requirements_txt_is_generated_from_pyproject():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import requirements
    finally:
        sys.path.pop(0)
    assert (ROOT / "requirements.txt").read_text() == requirements.render(), \
        "requirements.txt is stale: run python tools/requirements.py"


def test_requirements_txt_points_at_nothing_outside_the_repository():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    assert lines, "requirements.txt lists no package"
    for line in lines:
        assert not line.startswith(("-r", "-c", "-e", "/", ".", "file:")), line


def test_smoke_environment_is_written_only_in_tests_smoke_env():
    env = read_smoke_env()
    assert env["COURSE_PROFILE"] == "smoke" and env["COURSE_DOWNLOAD"] == "0"
    # The places that used to repeat it now read the file instead.
    for rel in ("Makefile", ".ci/run", "tools/make_exercises.py", "tests/conftest.py"):
        text = (ROOT / rel).read_text()
        assert "smoke.env" in text, f"{rel} does not read tests/smoke.env"
        assert not re.search(r"COURSE_PROFILE\W{1,3}smoke", text), \
            f"{rel} writes the smoke profile itself instead of reading tests/smoke.env"


def test_read_smoke_env_rejects_a_line_without_equals(tmp_path):
    bad = tmp_path / "smoke.env"
    bad.write_text("# comment\nCOURSE_PROFILE smoke\n")
    import pytest
    with pytest.raises(ValueError, match="KEY=VALUE"):
        read_smoke_env(bad)


def test_make_help_lists_every_phony_target():
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()
    out = subprocess.run(["make", "-s", "-C", str(ROOT), "help"], capture_output=True,
                         text=True, check=True).stdout
    listed = {line.split()[0] for line in out.splitlines()[1:] if line.startswith("  ")}
    assert set(phony) <= listed, f"make help misses {sorted(set(phony) - listed)}"
