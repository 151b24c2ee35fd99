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


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accept_kernel_dialog(page, seconds: float = 5.0):
    """JupyterLab sometimes asks which kernel to start: answer with the notebook's python3."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(timeout=seconds * 1000)
    except Exception:
        return
    select = dialog.locator("select")
    if select.count():
        options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        wanted = [o for o in options if "python3" in o]
        if wanted:
            select.select_option(wanted[0])
    dialog.locator(".jp-mod-accept").click()
    dialog.wait_for(state="detached", timeout=30_000)


def test_jupyterlab_runs_the_explorer_and_progress_bar_live(tmp_path):
    """A real JupyterLab in headless Chromium: the explorer's slider redraws its image."""
    import os
    import subprocess
    import time
    import urllib.request

    import nbformat
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {chromium} (make debs installs it)")
        pytest.skip(f"no Chromium at {chromium} (make debs installs it)")
    from playwright.sync_api import sync_playwright

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(check_lab.LIVE_CODE["latent explorer (chapter 07)"]),
                nbformat.v4.new_code_cell(check_lab.LIVE_CODE["training progress bar (tqdm.auto)"])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "live.ipynb")
    port, token = _free_port(), "course-test"
    lab = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", "--allow-root",
         f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={tmp_path}",
         "--ServerApp.ip=127.0.0.1"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")})
    try:
        url = f"http://127.0.0.1:{port}/lab/tree/live.ipynb?token={token}"
        for _ in range(120):  # the server starts in a few seconds; a loaded machine, longer
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            # Wait until the kernel is idle, then run the first cell.
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   timeout=120_000)
            _accept_kernel_dialog(page)
            page.click(".jp-Cell .jp-InputArea-editor")
            page.keyboard.press("Shift+Enter")
            image = page.locator(".widget-image").first
            try:
                image.wait_for(timeout=120_000)
            except Exception:
                page.screenshot(path=str(tmp_path / "lab.png"))
                raise AssertionError(f"no widget image; screenshot {tmp_path / 'lab.png'}")
            before = image.get_attribute("src")
            page.keyboard.press("Shift+Enter")
            page.locator(".widget-hprogress").first.wait_for(timeout=120_000)
            page.locator(".noUi-handle").first.focus()
            for _ in range(20):
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "src => document.querySelector('.widget-image').getAttribute('src') !== src",
                arg=before, timeout=60_000)
            assert page.locator(".widget-slider").count() == 2
            browser.close()
    finally:
        lab.terminate()
        lab.wait(timeout=30)
