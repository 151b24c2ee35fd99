"""The latent explorers of the built book, used as a reader uses them, in headless Chromium.

Chapter 07's map and chapter 09's slider panel are opened offline (the book is served on
127.0.0.1; any request elsewhere is aborted and fails the test). Pointer, touch and keyboard
events move the point or the sliders; after each move the canvas must hold exactly the
image the exported decoder gives at the printed ``z`` (decoded here by PyTorch from the
same file, within one grey level of rounding), the image must have changed, and the page
must log no error. Every request stays inside the book's folder, and the decoder file comes
from the page's own folder. Screenshots of both explorers at desktop (1280 px) and phone
(390 px) width, and in dark mode, are written next to the HTML (``<html>/../browser``).

Needs the built book, like ``test_book_pages.py``: ``BOOK_HTML`` or ``_build/html`` (else
skipped, saying so), Debian's Chromium and the ``playwright`` package.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import explorer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import check_book  # noqa: E402

BOOK_HTML = os.environ.get("BOOK_HTML")
CH07 = "chapters/07_latent_space.html"
CH09 = "chapters/09_posterior_collapse.html"
MAP_MARGIN = {"l": 30, "r": 8, "t": 8, "b": 28}   # latent_explorer.js: buildMap's layout
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def html():
    folder = Path(BOOK_HTML) if BOOK_HTML else ROOT / "_build" / "html"
    if not (folder / "index.html").is_file():
        if BOOK_HTML:
            pytest.fail(f"BOOK_HTML={BOOK_HTML} has no index.html: build the book first")
        pytest.skip(f"no built book at {folder}: build it first (make book); CI runs this "
                    "after its smoke build")
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the `playwright` package")
    if not Path(check_book.CHROMIUM).exists():
        missing.append(f"Chromium at {check_book.CHROMIUM}")
    if missing:
        (pytest.fail if BOOK_HTML else pytest.skip)("needs " + " and ".join(missing))
    return folder.resolve()


@pytest.fixture(scope="module")
def browser(html):
    from playwright.sync_api import sync_playwright
    server = check_book._Server(html)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=check_book.CHROMIUM,
                                      args=["--no-sandbox", "--disable-gpu"])
        yield chromium, server
        chromium.close()
    server.close()


class Reader:
    """One page in its own browser context, with everything it requested and logged."""

    def __init__(self, browser, page_name, **context):
        chromium, self.server = browser
        self.context = chromium.new_context(**context)
        self.requests, self.errors = [], []
        self.page_dir = self.server.url + page_name.rsplit("/", 1)[0] + "/"

        def route(r):
            url = r.request.url
            self.requests.append(url)
            if url.startswith(self.server.url) or url.startswith(("data:", "blob:")):
                r.continue_()
            else:
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(self.server.url + page_name, wait_until="load")
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.latent-explorer')].length > 0 && "
            "[...document.querySelectorAll('.latent-explorer')]"
            ".every(e => e.dataset.ready === 'yes' || e.dataset.ready === 'failed')",
            timeout=30_000)

    def check_clean(self, asset_names):
        """No errors logged, no request outside the book, decoders from the page folder."""
        assert not self.errors, f"console errors: {self.errors}"
        outside = [u for u in self.requests if not u.startswith((self.server.url, "data:",
                                                                  "blob:"))]
        assert not outside, f"requests that leave the book's folder: {outside}"
        fetched = [u for u in self.requests if u.endswith(".safetensors")]
        assert sorted(fetched) == sorted(self.page_dir + "_explorer/" + n + ".safetensors"
                                         for n in asset_names), fetched

    def close(self):
        self.context.close()


def canvas_grey(handle) -> np.ndarray:
    """The grey levels (0..255) of a decoded-image canvas, ``(H, W)``."""
    data = handle.evaluate("c => { const d = c.getContext('2d')"
                           ".getImageData(0, 0, c.width, c.height); "
                           "return [c.width, c.height, Array.from(d.data)]; }")
    w, h, rgba = data
    return np.asarray(rgba, dtype=np.int16).reshape(h, w, 4)[..., 0]


def expected_grey(asset_path, z) -> np.ndarray:
    pixels = explorer.decode(asset_path, torch.tensor([z], dtype=torch.float32))[0, 0]
    return np.round(255 * (1 - pixels.numpy().astype(np.float64))).astype(np.int16)


def assert_canvas_is_decoder(handle, asset_path, z):
    got, want = canvas_grey(handle), expected_grey(asset_path, z)
    difference = int(np.abs(got - want).max())
    assert difference <= 1, f"canvas differs from the decoder at z = {z} by {difference} levels"


def explorer_z(root) -> list:
    return json.loads(root.get_attribute("data-z"))


def updates(root) -> int:
    return int(root.get_attribute("data-updates"))


def shoot(html, element, name):
    folder = html.parent / "browser"
    folder.mkdir(exist_ok=True)
    element.screenshot(path=str(folder / name))
    assert (folder / name).stat().st_size > 5_000


# ----------------------------------------------------------------- chapter 07: the 2-D map

def _map(reader, html):
    root = reader.page.locator('.latent-explorer[data-kind="map"]')
    assert root.count() == 1, "chapter 07 shows one latent map"
    assert root.get_attribute("data-ready") == "yes", root.inner_text()
    asset = html / "chapters" / "_explorer" / "ch07_vae2.safetensors"
    _, description = explorer.read_asset(asset)
    canvas = root.locator("canvas.lx-map-canvas")
    canvas.evaluate("c => c.scrollIntoView({block: 'center'})")   # clear of the sticky header
    box = canvas.bounding_box()
    side = min(box["width"] - MAP_MARGIN["l"] - MAP_MARGIN["r"],
               box["height"] - MAP_MARGIN["t"] - MAP_MARGIN["b"])
    extent = description.get("extent", description["box"])

    def at(z1, z2):  # the page position of a latent point
        return (box["x"] + MAP_MARGIN["l"] + (z1 + extent) / (2 * extent) * side,
                box["y"] + MAP_MARGIN["t"] + (extent - z2) / (2 * extent) * side)

    per_pixel = 2 * extent / side
    at.extent = extent
    return root, canvas, root.locator("canvas.lx-image"), asset, at, per_pixel


def test_chapter_07_map_follows_mouse_and_keys_and_draws_the_decoder(browser, html):
    reader = Reader(browser, CH07, **DESKTOP)
    root, canvas, image, asset, at, per_pixel = _map(reader, html)
    page = reader.page
    # No dead control: the ipywidgets explorer's output is not in the page.
    assert page.locator(".widget-slider, .jupyter-widgets, .widget-hslider").count() == 0
    assert explorer_z(root) == [0, 0]
    assert_canvas_is_decoder(image, asset, [0, 0])
    start = canvas_grey(image)

    # Drag with the mouse, in 12 moves: every move decodes.
    before = updates(root)
    page.mouse.move(*at(0, 0))
    page.mouse.down()
    page.mouse.move(*at(1.5, -1.0), steps=12)
    page.mouse.up()
    assert updates(root) - before >= 13, "each pointer event should redraw"
    z = explorer_z(root)
    assert np.allclose(z, [1.5, -1.0], atol=2 * per_pixel), z
    assert_canvas_is_decoder(image, asset, z)
    assert np.abs(canvas_grey(image) - start).max() > 50, "the image should change"
    readout = root.locator(".lx-readout").inner_text()
    assert f"z = ({z[0]:.2f}, {z[1]:.2f})".replace("-", "\u2212") in readout, readout

    # Keys: three steps right, one up, one large step down.
    canvas.focus()
    for key in ["ArrowRight"] * 3 + ["ArrowUp", "Shift+ArrowDown"]:
        page.keyboard.press(key)
    z_keys = explorer_z(root)
    assert np.allclose(z_keys, [z[0] + 0.3, z[1] + 0.1 - 0.5], atol=1e-5), z_keys
    assert_canvas_is_decoder(image, asset, z_keys)
    page.keyboard.press("0")
    assert explorer_z(root) == [0, 0]
    assert_canvas_is_decoder(image, asset, [0, 0])

    # Dragged beyond the map, the point stays at its edge (the pointer is captured).
    page.mouse.move(*at(3, 3))
    page.mouse.down()
    page.mouse.move(*at(9, 9), steps=3)
    page.mouse.up()
    edge = explorer_z(root)
    assert edge == [edge[0], edge[0]] and np.isclose(edge[0], at.extent), edge
    assert_canvas_is_decoder(image, asset, edge)

    reader.check_clean(["ch07_vae2"])
    page.mouse.click(*at(-1.2, 0.8))
    shoot(html, root, "explorer-ch07-desktop.png")
    page.evaluate("document.documentElement.dataset.theme = 'dark'; "
                  "document.documentElement.dataset.mode = 'dark'")
    page.wait_for_timeout(1000)   # the theme fades its colours
    shoot(html, root, "explorer-ch07-desktop-dark.png")
    assert not reader.errors, reader.errors
    reader.close()


def test_chapter_07_map_works_by_touch_on_a_phone(browser, html):
    reader = Reader(browser, CH07, **PHONE)
    page = reader.page
    root, canvas, image, asset, at, per_pixel = _map(reader, html)
    width = page.evaluate("document.documentElement.clientWidth")
    for part in (root, canvas, image):
        b = part.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= width + 1, f"wider than the phone: {b}"
    assert canvas.bounding_box()["width"] >= 150 and image.bounding_box()["width"] >= 90

    page.touchscreen.tap(*at(-1.0, 1.0))
    z = explorer_z(root)
    assert np.allclose(z, [-1.0, 1.0], atol=2 * per_pixel), z
    assert_canvas_is_decoder(image, asset, z)

    # A touch drag (Chrome DevTools touch events: real touch pointers), in 8 moves.
    cdp, before = page.context.new_cdp_session(page), updates(root)
    x0, y0 = at(-1.0, 1.0)
    x1, y1 = at(1.0, -0.5)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                          "touchPoints": [{"x": x0, "y": y0}]})
    for k in range(1, 9):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x0 + (x1 - x0) * k / 8, "y": y0 + (y1 - y0) * k / 8}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert updates(root) - before >= 8
    z = explorer_z(root)
    assert np.allclose(z, [1.0, -0.5], atol=2 * per_pixel), z
    assert_canvas_is_decoder(image, asset, z)
    assert page.evaluate("window.scrollX") == 0
    reader.check_clean(["ch07_vae2"])
    shoot(html, root, "explorer-ch07-phone.png")
    page.screenshot(path=str(html.parent / "browser" / "explorer-ch07-phone-window.png"))
    reader.close()


# ----------------------------------------------------------------- chapter 09: the sliders

def _panel(reader, html):
    root = reader.page.locator('.latent-explorer[data-kind="traversal"]')
    assert root.count() == 1, "chapter 09 shows one slider panel"
    assert root.get_attribute("data-ready") == "yes", root.inner_text()
    entries = json.loads(root.get_attribute("data-assets"))
    assets = [html / "chapters" / e["src"] for e in entries]
    return root, assets, root.locator("canvas.lx-image"), root.locator("input[type=range]")


def test_chapter_09_sliders_drive_both_decoders(browser, html):
    reader = Reader(browser, CH09, **DESKTOP)
    root, assets, images, sliders = _panel(reader, html)
    page = reader.page
    dim = explorer.read_asset(assets[0])[1]["latent_dim"]
    assert len(assets) == 2 and images.count() == 2 and sliders.count() == dim
    for k, asset in enumerate(assets):
        assert_canvas_is_decoder(images.nth(k), asset, [0.0] * dim)
    starts = [canvas_grey(images.nth(k)) for k in range(2)]

    # Each dimension in turn: End (z_j = 3) and Home (-3) by keyboard, a click on the middle
    # of the track (about 0) with the mouse, then the reset button.
    changed = np.zeros((2, dim))
    reset = root.locator("button.lx-reset")
    for j in range(dim):   # at the bottom of the window, clear of the sticky images
        sliders.nth(j).evaluate("s => s.scrollIntoView({block: 'end'})")
        sliders.nth(j).focus()
        page.keyboard.press("End")
        z = explorer_z(root)
        assert z[j] == 3 and sum(abs(v) for v in z) == 3, z
        for k, asset in enumerate(assets):
            assert_canvas_is_decoder(images.nth(k), asset, z)
            changed[k, j] = np.abs(canvas_grey(images.nth(k)) - starts[k]).mean()
        page.keyboard.press("Home")
        assert explorer_z(root)[j] == -3
        b = sliders.nth(j).bounding_box()
        page.mouse.click(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
        z = explorer_z(root)
        assert abs(z[j]) < 0.2, z
        assert_canvas_is_decoder(images.nth(1), assets[1], z)
        reset.click()
        assert explorer_z(root) == [0.0] * dim
    for j in range(dim):
        sliders.nth(j).focus()
        page.keyboard.press("Home")
    z = explorer_z(root)
    assert z == [-3.0] * dim, z
    for k, asset in enumerate(assets):
        assert_canvas_is_decoder(images.nth(k), asset, z)
    assert changed.max() > 1, "some slider should change an image"
    reset.click()
    assert explorer_z(root) == [0.0] * dim
    for k, asset in enumerate(assets):
        assert_canvas_is_decoder(images.nth(k), asset, [0.0] * dim)
    reader.check_clean([Path(a).stem for a in assets])
    sliders.nth(int(changed[1].argmax())).focus()
    page.keyboard.press("End")
    shoot(html, root, "explorer-ch09-desktop.png")
    reader.close()


def test_chapter_09_sliders_work_by_touch_on_a_phone(browser, html):
    reader = Reader(browser, CH09, **PHONE)
    root, assets, images, sliders = _panel(reader, html)
    page = reader.page
    width = page.evaluate("document.documentElement.clientWidth")
    b = root.bounding_box()
    assert b["x"] >= 0 and b["x"] + b["width"] <= width + 1, f"wider than the phone: {b}"
    slider = sliders.nth(0)
    slider.evaluate("s => s.scrollIntoView({block: 'end'})")
    s = slider.bounding_box()
    page.touchscreen.tap(s["x"] + s["width"] * 0.9, s["y"] + s["height"] / 2)
    z = explorer_z(root)
    assert z[0] > 1.5, z
    for k, asset in enumerate(assets):
        assert_canvas_is_decoder(images.nth(k), asset, z)
    # The images stay in view while the reader works the last slider.
    sliders.nth(sliders.count() - 1).evaluate("s => s.scrollIntoView({block: 'end'})")
    top = images.nth(0).bounding_box()
    assert top["y"] >= 0 and top["y"] + top["height"] <= 844, top
    reader.check_clean([Path(a).stem for a in assets])
    # What a reader's phone shows while working the sliders: the window, not the element.
    sliders.nth(6).evaluate("s => { s.scrollIntoView({block: 'end'}); "
                            "s.focus({preventScroll: true}); }")
    page.keyboard.press("End")
    assert explorer_z(root)[6] == 3
    folder = html.parent / "browser"
    page.screenshot(path=str(folder / "explorer-ch09-phone.png"))
    reader.close()
