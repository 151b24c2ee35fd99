"""tools/check_lab.py: `make lab`'s install step is proven without starting a server."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import check_lab  # noqa: E402

pytestmark = pytest.mark.slow


def test_the_environment_has_a_working_jupyter_lab_command():
    version = check_lab.check_lab_command()
    assert int(version.split(".")[0]) >= 4, version


def test_the_widget_extension_is_installed_and_enabled():
    line = check_lab.check_widget_extension()
    assert check_lab.WIDGET_EXTENSION in line and "enabled" in line


def test_an_unregistered_kernel_is_reported_with_the_command_that_fixes_it():
    with pytest.raises(RuntimeError, match="not registered.*make lab-setup"):
        check_lab.check_kernel("no-such-kernel-for-this-course")


def test_the_latent_explorer_renders_as_a_live_widget_in_a_kernel():
    # python3 is this environment's own kernel (ipykernel's default spec), so the test does
    # not depend on `make lab-setup` having registered vae-course for the user.
    views = check_lab.widget_views(check_lab.LIVE_CODE["latent explorer (chapter 07)"], "python3")
    assert len(views) == 1 and views[0]["model_id"]


def test_code_that_shows_no_widget_gives_no_widget_view():
    # The live check can fail: plain text output is not counted as a widget.
    assert check_lab.widget_views("print('a progress bar written as text')", "python3") == []
