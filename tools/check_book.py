"""Open every page of a built book in headless Chromium, as a reader would, and list what is wrong.

    python tools/check_book.py [_build/html] [--screenshots DIR] [--shoot PAGE ...]

Serves the HTML folder on 127.0.0.1 (an ephemeral port), opens each page with Playwright
driving the system Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``; nothing is downloaded),
and reports, per page:

* an error output, a traceback or stderr output (e.g. a warning) in a cell;
* an image that does not load (``naturalWidth == 0``);
* a formula MathJax did not typeset: a ``.math`` element without ``mjx-container``, a
  ``Math Processing Error`` or ``mjx-merror``, raw ``$…$``, ``\\(``, ``\\[`` or ``\\begin`` text
  outside code;
* a request answered with an HTTP error (a missing asset), or a request that leaves
  localhost (it is aborted and recorded);
* a JavaScript error (console error or uncaught exception);
* a code cell, output, table or display formula wider than its box, unless it sits in a
  deliberate scroll box (``overflow-x: auto|scroll``, no wider than the text column, and a
  visible border, or a display formula's own box);
* an internal link to a page or anchor that does not exist; more than one visible search box;
* a Colab button that does not point at the page's own notebook under the repository in
  ``_config.yml`` (``repository.url`` / ``branch`` / ``path_to_book``).

Exit status 1 when anything is reported. Screenshots of the landing page and one chapter
(full page, PNG) are written to ``--screenshots`` (default: ``<html>/../browser``).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
COLAB = "https://colab.research.google.com/github"
# Folders of a Sphinx build that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "_downloads", "_panels_static"}

# Run in the page once MathJax has finished: everything the checks need, as plain data.
PAGE_PROBE = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const imgs = [...document.querySelectorAll('img')];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  await document.fonts.ready;
  const out = {errors: [], images: [], math: [], raw: [], wide: [], links: [], colab: []};
  const short = el => (el.innerText || el.textContent || '').trim().slice(0, 80);
  for (const el of document.querySelectorAll('.cell_output .output.error, '
                                             + '.cell_output .output.traceback')) {
    out.errors.push(short(el));
  }
  for (const el of document.querySelectorAll('.cell_output .output.stderr')) {
    out.errors.push('stderr: ' + short(el));  // warnings printed into the book
  }
  for (const el of document.querySelectorAll('.cell_output')) {
    if ((el.innerText || '').includes('Traceback (most recent call last)')) {
      out.errors.push('Traceback: ' + short(el));
    }
  }
  for (const i of imgs) {
    if (!(i.complete && i.naturalWidth > 0)) out.images.push(i.getAttribute('src'));
  }
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('mjx-container') && el.tagName !== 'MJX-CONTAINER') {
      out.math.push('not typeset: ' + short(el));
    }
  }
  for (const el of document.querySelectorAll('mjx-merror, [data-mjx-error]')) {
    out.math.push('MathJax error: ' + (el.getAttribute('data-mjx-error') || short(el)));
  }
  // Raw TeX in visible text outside code, scripts and typeset math.
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .math';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = /Math Processing Error|\\begin\{|\\\(|\\\[|\$[^$\s][^$]*\$/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest(skip)) continue;
    const m = n.textContent.match(raw);
    if (m) out.raw.push(m[0].slice(0, 60));
  }
  // Widths: nothing wider than its own box unless inside a deliberate scroll box.
  const col = document.querySelector('article.bd-article') || document.querySelector('main')
              || document.body;
  const colRight = col.getBoundingClientRect().right;
  const scrollBox = el => {
    for (let a = el; a && a !== col; a = a.parentElement) {  // the element or an ancestor
      const s = getComputedStyle(a);
      if (!['auto', 'scroll'].includes(s.overflowX)) continue;
      const bordered = parseFloat(s.borderTopWidth) > 0 || parseFloat(s.borderLeftWidth) > 0
                       || s.boxShadow !== 'none';
      // Display math scrolls in its own box (book.css); anything else needs a border.
      const ok = bordered || a.tagName === 'MJX-CONTAINER';
      if (ok && a.getBoundingClientRect().right <= colRight + 1) return true;
    }
    return false;
  };
  const wideSel = 'div.cell pre, div.cell_output pre, div.cell_output table, article table, '
                + 'mjx-container[display="true"]';
  for (const el of document.querySelectorAll(wideSel)) {
    if (el.offsetParent === null) continue;  // hidden (e.g. a collapsed toggle)
    const over = el.scrollWidth > el.clientWidth + 1;
    const past = el.getBoundingClientRect().right > colRight + 1;
    if ((over || past) && !scrollBox(el)) {
      out.wide.push(`${el.tagName.toLowerCase()} ${el.scrollWidth}px in ${el.clientWidth}px: `
                    + short(el).split('\n')[0]);
    }
  }
  const visible = el => el.offsetParent !== null && el.getBoundingClientRect().width > 0;
  out.search = [...document.querySelectorAll('.search-button-field, form.bd-search')]
    .filter(visible).length;
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (href.includes('colab.research.google.com')) out.colab.push(a.href);
    else out.links.push(a.href);
  }
  return out;
}
"""


class _Server:
    """A static file server for ``folder`` on 127.0.0.1 that records every 4xx/5xx path."""

    def __init__(self, folder: Path):
        self.failures: list[str] = []
        failures = self.failures

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send_error(self, code, message=None, explain=None):
                failures.append(f"HTTP {code} {unquote(self.path)}")
                super().send_error(code, message, explain)

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def repository(config_path: Path = ROOT / "_config.yml") -> dict:
    """``repository`` of a Jupyter Book ``_config.yml``: {'url', 'branch', 'path_to_book'}."""
    repo = (yaml.safe_load(config_path.read_text()) or {}).get("repository") or {}
    if not repo.get("url"):
        raise ValueError(f"{config_path}: no repository.url; set it to the GitHub repository "
                         "of the book, e.g. https://github.com/<owner>/<repo>")
    return {"url": repo["url"].rstrip("/").removesuffix(".git"),
            "branch": repo.get("branch", "main"),
            "path_to_book": (repo.get("path_to_book") or "").strip("/")}


def colab_url(repo: dict, notebook: str) -> str:
    """The Colab address of ``notebook`` (a path like ``chapters/01_x.ipynb``) in ``repo``."""
    owner_name = urlsplit(repo["url"]).path.strip("/")
    path = "/".join(p for p in (repo["path_to_book"], notebook) if p)
    return f"{COLAB}/{owner_name}/blob/{repo['branch']}/{path}"


def book_pages(html: Path) -> list[str]:
    """Every HTML page of a build, as paths relative to ``html`` (assets excluded)."""
    pages = [p.relative_to(html).as_posix() for p in sorted(html.rglob("*.html"))]
    return [p for p in pages if p.split("/")[0] not in ASSET_DIRS]


def _anchors(html: Path, page: str, cache: dict) -> set:
    if page not in cache:
        text = (html / page).read_text(errors="replace")
        cache[page] = set(re.findall(r'\bid="([^"]+)"', text))
    return cache[page]


def _link_problems(html: Path, base: str, links: list[str], cache: dict) -> list[str]:
    problems = []
    for link in sorted(set(links)):
        parts = urlsplit(link)
        if not link.startswith(base):
            continue  # external links are not followed (no request leaves localhost)
        target = unquote(parts.path[len(urlsplit(base).path):]) or "index.html"
        if target.endswith("/"):
            target += "index.html"
        if not (html / target).is_file():
            problems.append(f"broken link: {target}")
        elif parts.fragment and target.endswith(".html"):
            if unquote(parts.fragment) not in _anchors(html, target, cache):
                problems.append(f"broken anchor: {target}#{parts.fragment}")
    return problems


def _colab_problems(html: Path, page: str, found: list[str], repo: dict | None) -> list[str]:
    if repo is None:
        return []
    source = (html / "_sources" / page).with_suffix(".ipynb")
    if not source.is_file():
        return [f"Colab button on a page that is not a notebook: {u}" for u in found]
    expected = colab_url(repo, Path(page).with_suffix(".ipynb").as_posix())
    if not found:
        return [f"no Colab button (expected {expected})"]
    return [f"Colab button points at {u}, not at {expected}" for u in set(found) if u != expected]


def _probe(page, attempts: int = 3) -> dict:
    """PAGE_PROBE's result; retried when the page navigates (index.html redirects)."""
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            page.wait_for_load_state("load")
            return page.evaluate(PAGE_PROBE)
        except Error as error:
            if "context was destroyed" not in str(error) or attempt == attempts - 1:
                raise
            page.wait_for_timeout(500)


def check_book(html: Path, repo: dict | None = None, screenshots: Path | None = None,
               shoot: tuple[str, ...] = (), pages: list[str] | None = None,
               timeout_ms: int = 60_000) -> dict[str, list[str]]:
    """Open every page of the built book ``html`` in headless Chromium; problems per page.

    ``repo``: the configured repository (``repository()``), for the Colab check; None skips it.
    ``shoot``: pages to save as full-page PNGs into ``screenshots``. Returns
    ``{page: [problem, ...]}`` with only the pages that have problems (empty when all is well).
    """
    from playwright.sync_api import sync_playwright

    html = Path(html).resolve()
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"{html} has no index.html: build the book first "
                                "(make book, or jupyter-book build .)")
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"no Chromium at {CHROMIUM}: install Debian's `chromium` "
                                "(apt-get install chromium) or set $CHROMIUM to its path")
    pages = pages if pages is not None else book_pages(html)
    server = _Server(html)
    report: dict[str, list[str]] = {}
    cache: dict = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            problems: list[str] = []

            def route(r):
                url = r.request.url
                if url.startswith(server.url) or url.startswith(("data:", "blob:", "about:")):
                    r.continue_()
                else:
                    problems.append(f"request leaves localhost: {url}")
                    r.abort()

            context.route("**/*", route)
            for page_name in pages:
                problems = []
                del server.failures[:]
                page = context.new_page()
                page.on("console", lambda m: m.type == "error" and problems.append(
                    f"console error: {m.text[:200]}"))
                page.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
                page.goto(server.url + page_name, wait_until="load", timeout=timeout_ms)
                probe = _probe(page)
                page.wait_for_timeout(200)  # late requests (fonts) reach the server log
                problems += [f"error output: {t}" for t in probe["errors"]]
                problems += [f"image does not load: {s}" for s in probe["images"]]
                problems += [f"formula: {t}" for t in probe["math"]]
                problems += [f"raw TeX in text: {t}" for t in probe["raw"]]
                problems += [f"too wide: {t}" for t in probe["wide"]]
                if probe["search"] > 1 and page_name != "search.html":  # that page is one
                    problems.append(f"{probe['search']} search boxes visible (one is enough)")
                problems += list(dict.fromkeys(server.failures))
                problems += _link_problems(html, server.url, probe["links"], cache)
                problems += _colab_problems(html, page_name, probe["colab"], repo)
                if page_name in shoot and screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    name = page_name.replace("/", "__").removesuffix(".html") + ".png"
                    page.screenshot(path=str(screenshots / name), full_page=True)
                page.close()
                if problems:
                    report[page_name] = list(dict.fromkeys(problems))
            browser.close()
    finally:
        server.close()
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default=str(ROOT / "_build" / "html"),
                        help="the built book (default: _build/html)")
    parser.add_argument("--config", default=str(ROOT / "_config.yml"),
                        help="the book's _config.yml, for the repository (Colab check)")
    parser.add_argument("--screenshots", default=None,
                        help="folder for PNGs (default: <html>/../browser)")
    parser.add_argument("--shoot", nargs="*", default=["intro.html",
                                                        "chapters/06_conv_vae.html"],
                        help="pages to screenshot (default: the landing page and chapter 06)")
    args = parser.parse_args(argv)
    html = Path(args.html)
    shots = Path(args.screenshots) if args.screenshots else html.resolve().parent / "browser"
    pages = book_pages(html) if html.is_dir() else []
    shoot = tuple(p for p in args.shoot if p in pages)
    report = check_book(html, repository(Path(args.config)), shots, shoot)
    for page, problems in report.items():
        print(f"{page}:")
        for problem in problems:
            print(f"  - {problem}")
    print(f"{len(pages)} pages checked, {len(report)} with problems; screenshots in {shots}")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
