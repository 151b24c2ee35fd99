"""Open every page of a built book in headless Chromium, as a reader would, and list what is wrong.

    python tools/check_book.py [_build/html] [--screenshots DIR] [--shoot PAGE ...]

Serves the HTML folder on 127.0.0.1 (an ephemeral port) and opens each page with Playwright
driving the system Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``; nothing is downloaded)
four times: desktop (1280 x 900) and phone (390 x 844), each in light and dark mode
(``html[data-theme=dark]``, the theme's own switch). It reports, per page:

Every pass
  * a request answered with an HTTP error (a missing asset), or a request that leaves
    localhost (it is aborted and recorded); a JavaScript error (console error or uncaught
    exception); a colour mode that was asked for and not applied;
  * text hard to read: contrast between a text's colour and the background it is drawn on
    below 3:1 (e.g. light text on a light output box in dark mode);
  * a code cell, output, table or formula wider than the text column, unless it sits in a
    deliberate scroll box (``overflow-x: auto|scroll``, no wider than the column, and visibly
    one: a border, or edge shadows);
  * a display formula that scrolls with no visible cue, or an inline formula clipped by the
    box around it.

Desktop, light
  * an error output, a traceback or stderr output (e.g. a warning) in a cell;
  * an image that does not load (``naturalWidth == 0``);
  * a formula MathJax did not typeset: a ``.math`` element without ``mjx-container``, a
    ``Math Processing Error`` or ``mjx-merror``, raw ``$...$``, ``\\(``, ``\\[`` or
    ``\\begin`` text outside code;
  * a figure (an image in a cell's output) without a caption (``figcaption``) or without
    descriptive alt text (at least three words, not a file name);
  * a saved ipywidget that is not drawn disabled under a line saying it runs live in Jupyter
    or Colab (in a static page no Python runs, so a control that moved would change nothing);
  * an internal link to a page or anchor that does not exist; more than one visible search box;
  * a Colab or repository button that does not point at the page's own notebook under the
    repository in ``_config.yml`` (``repository.url`` / ``branch`` / ``path_to_book``), or,
    while ``repository.url`` is empty, any such button at all;
  * a chapter page whose first visit, every image loaded, transfers more than
    ``PAGE_BUDGET`` bytes (nothing comes from a cache; text files counted gzip-compressed,
    as a static host sends them: see :func:`transfer_size`).

Phone
  * the page is wider than the screen (it scrolls sideways); the element responsible is named;
  * a figure shown at less than 45 % of its pixel width (its labels too small to read;
    ``_static/book.js`` shows a wide figure at half its pixel width in a sideways scroll box).

Search (``SEARCH_QUERIES``): the search page finds each query on the pages expected, and
every snippet it shows is readable text: no raw LaTeX, no JSON.

Exit status 1 when anything is reported. Full-page screenshots of ``--shoot`` pages in every
pass are written to ``--screenshots`` (default: ``<html>/../browser``).
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import os
import re
import sys
import threading
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
COLAB = "https://colab.research.google.com/github"
# Folders of a Sphinx build that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "_downloads", "_panels_static"}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSES = (("desktop", "light"), ("desktop", "dark"), ("phone", "light"), ("phone", "dark"))
# A chapter page's first visit, every image loaded, in bytes transferred (3 MB): text files
# (HTML, CSS, JavaScript, JSON, SVG) count gzip-compressed, as static hosts such as GitHub
# Pages send them to every browser; images, fonts and decoder files count as they are.
PAGE_BUDGET = 3_000_000
COMPRESSED_TYPES = (".html", ".htm", ".css", ".js", ".mjs", ".json", ".svg", ".txt", ".xml")
MIN_CONTRAST = 3.0
# query -> pages its results must include (the book's spelling is British: the search must
# find "reparameterisation" from the American spelling too).
SEARCH_QUERIES = {
    "reparameterization": ("chapters/04_reparameterization.html", "glossary.html"),
    "codebook": ("chapters/10_vq_vae_fsq.html", "glossary.html"),
    "free bits": ("chapters/09_posterior_collapse.html", "glossary.html"),
}
RAW_SNIPPET = re.compile(r"\\[A-Za-z]+|\\[()\[\]]|\$[^$\s][^$]*\$|\{\s*\"|\":\s*[\[{\"]")

# Run in the page once MathJax has finished: everything the checks need, as plain data.
# ``opts``: {full: the desktop-light checks, phone: the page-width check}.
PAGE_PROBE = r"""
async (opts) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const imgs = [...document.querySelectorAll('img')];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  await document.fonts.ready;
  await new Promise(r => setTimeout(r, 100));  // book.js fits formulas after MathJax
  const out = {errors: [], images: [], math: [], raw: [], wide: [], small: [], links: [], colab: [],
               buttons: [], figures: [], widgets: [], contrast: [], clipped: [],
               theme: document.documentElement.dataset.theme || '', pageWidth: null};
  const short = el => (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ')
                      .slice(0, 80);
  const col = document.querySelector('article.bd-article') || document.querySelector('main')
              || document.body;
  const colRight = col.getBoundingClientRect().right;
  const visible = el => el.offsetParent !== null && el.getBoundingClientRect().width > 0;

  // ---- every pass: widths, clipped formulas, contrast
  const scrollBox = el => {
    for (let a = el; a && a !== col; a = a.parentElement) {  // the element or an ancestor
      const s = getComputedStyle(a);
      if (!['auto', 'scroll'].includes(s.overflowX)) continue;
      const marked = parseFloat(s.borderTopWidth) > 0 || parseFloat(s.borderLeftWidth) > 0
                     || s.boxShadow !== 'none' || s.backgroundImage.includes('gradient')
                     || a.tagName === 'MJX-CONTAINER';
      if (marked && a.getBoundingClientRect().right <= colRight + 1) return true;
    }
    return false;
  };
  const wideSel = 'div.cell pre, div.cell_output pre, div.cell_output table, article table, '
                + 'mjx-container[display="true"], article span.math';
  for (const el of document.querySelectorAll(wideSel)) {
    if (el.offsetParent === null) continue;  // hidden (e.g. a collapsed toggle)
    const over = el.tagName !== 'SPAN' && el.scrollWidth > el.clientWidth + 1;
    const past = el.getBoundingClientRect().right > colRight + 1;
    if ((over || past) && !scrollBox(el)) {
      out.wide.push(`${el.tagName.toLowerCase()} ${Math.round(el.getBoundingClientRect().right)}`
                    + `px, column ends at ${Math.round(colRight)}px: `
                    + short(el).split('\n')[0]);
    }
  }
  for (const span of document.querySelectorAll('article span.math')) {
    const m = span.querySelector('mjx-container > mjx-math');
    if (!m || !visible(span)) continue;
    const s = getComputedStyle(span);
    if (['hidden', 'clip'].includes(s.overflowX)
        && m.getBoundingClientRect().width > span.getBoundingClientRect().width + 1) {
      out.clipped.push(`inline formula cut off (${Math.round(m.getBoundingClientRect().width)}px `
                       + `in ${Math.round(span.getBoundingClientRect().width)}px): ${short(span)}`);
    }
  }
  for (const c of document.querySelectorAll('article mjx-container[display="true"]')) {
    if (!visible(c) || c.scrollWidth <= c.clientWidth + 1) continue;
    const s = getComputedStyle(c);
    if (!['auto', 'scroll'].includes(s.overflowX)) {
      out.clipped.push(`display formula cut off: ${short(c)}`);
    } else if (!s.backgroundImage.includes('gradient')) {
      out.clipped.push(`display formula scrolls with no visible cue: ${short(c)}`);
    }
  }
  const parse = c => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const lum = rgb => {
    const f = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
  };
  const bgOf = el => {
    for (let a = el; a; a = a.parentElement) {
      const c = parse(getComputedStyle(a).backgroundColor);
      if (c && c[3] >= 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('script, style, noscript, mjx-assistive-mml, .visually-hidden, .sr-only')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || !visible(el)) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || parseFloat(s.opacity) === 0) continue;
    const fg = parse(s.color), bg = bgOf(el);
    if (!fg || fg[3] === 0) continue;
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < opts.minContrast) {
      out.contrast.push(`${s.color} on rgb(${bg.slice(0, 3).join(', ')}), contrast `
                        + `${ratio.toFixed(2)}: "${n.textContent.trim().slice(0, 50)}"`);
    }
  }

  // ---- phone: figures are shown at a readable size (at least 45 % of their pixel width: the
  // 150-dpi figures' labels at about their printed size; book.js lets wide ones scroll)
  if (opts.phone) {
    for (const img of document.querySelectorAll('div.cell_output img')) {
      if (img.closest('.bk-widget-static') || !img.naturalWidth || !visible(img)) continue;
      const scale = img.getBoundingClientRect().width / img.naturalWidth;
      if (scale < 0.45) {
        out.small.push(`figure shown at ${Math.round(scale * 100)} % of its pixel width `
                       + `(${img.naturalWidth}px in ${Math.round(img.getBoundingClientRect().width)}px): `
                       + `labels too small to read: ${(img.getAttribute('alt') || '').slice(0, 50)}`);
      }
    }
  }

  // ---- phone: the page is not wider than the screen; if it is, name the element
  if (opts.phone) {
    const width = () => document.documentElement.scrollWidth;
    const screen = document.documentElement.clientWidth;
    if (width() > screen + 1) {
      const path = [];
      let node = document.body;
      for (let depth = 0; depth < 40 && node; depth++) {
        let culprit = null;
        for (const child of node.children) {
          const before = width(), keep = child.style.display;
          child.style.display = 'none';
          const after = width();
          child.style.display = keep;
          if (after < before) { culprit = child; break; }
        }
        if (!culprit) break;
        path.push(culprit);
        node = culprit;
      }
      const last = path[path.length - 1];
      out.pageWidth = `page is ${width()}px wide on a ${screen}px screen`
        + (last ? `, because of <${last.tagName.toLowerCase()} class="${last.className}">: `
                  + short(last) : '');
    }
  }
  if (!opts.full) return out;

  // ---- desktop, light: everything else
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
  const texWalker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = /Math Processing Error|\\begin\{|\\\(|\\\[|\$[^$\s][^$]*\$/;
  for (let n = texWalker.nextNode(); n; n = texWalker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest(skip)) continue;
    const m = n.textContent.match(raw);
    if (m) out.raw.push(m[0].slice(0, 60));
  }
  // Figures: an image in a cell's output needs a caption and alt text that describes it.
  for (const img of document.querySelectorAll('.cell_output img')) {
    if (img.closest('.bk-widget-static')) continue;  // part of a drawn (disabled) widget
    const name = (img.getAttribute('src') || '').split('/').pop().slice(0, 16);
    const figure = img.closest('figure');
    const caption = figure && figure.querySelector('figcaption');
    const captionText = caption ? short(caption) : '';
    if (captionText.split(/\s+/).filter(Boolean).length < 3) {
      out.figures.push(`figure ${name}... has no caption (myst-nb metadata `
                       + `mystnb.figure.caption on its cell)`);
    }
    const alt = (img.getAttribute('alt') || '').trim();
    const pathLike = /^\S*[\/\\]\S*$/.test(alt) || /\.(png|jpe?g|gif|svg|webp)$/i.test(alt)
                     || /^[0-9a-f]{16,}/i.test(alt);  // a path, not a '1/k' in a sentence
    if (pathLike || alt.split(/\s+/).filter(w => /[a-z]/i.test(w)).length < 3) {
      out.figures.push(`figure ${name}... has no descriptive alt text (got "${alt.slice(0, 40)}"; `
                       + 'myst-nb metadata mystnb.image.alt on its cell)');
    }
  }
  // Saved ipywidgets: drawn disabled (book.js), under a line saying where they run.
  for (const s of document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')) {
    const box = s.nextElementSibling;
    if (!box || !box.classList.contains('bk-widget-static')) {
      out.widgets.push('a saved widget is not drawn as a disabled control with a note');
      continue;
    }
    const note = (box.querySelector('.bk-widget-note') || box).textContent;
    if (!/Jupyter/.test(note) || !/Colab/.test(note)) {
      out.widgets.push(`a disabled widget's note does not say it runs in Jupyter or Colab: ${note}`);
    }
    const live = box.querySelectorAll('input:not([disabled]), select:not([disabled]), '
                                      + 'button:not([disabled]), textarea:not([disabled])');
    if (live.length) out.widgets.push(`a saved widget has ${live.length} enabled controls`);
  }
  for (const el of document.querySelectorAll('.jupyter-widgets')) {
    if (!el.closest('.bk-widget-static')) {
      out.widgets.push('a widget manager drew a control that does nothing in a static page');
      break;
    }
  }
  out.search = [...document.querySelectorAll('.search-button-field, form.bd-search')]
    .filter(visible).length;
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (href.includes('colab.research.google.com')) out.colab.push(a.href);
    else out.links.push(a.href);
  }
  for (const a of document.querySelectorAll('a.btn-source-repository-button, '
                                            + 'a.btn-source-edit-button, a.btn-source-issues-button')) {
    out.buttons.push(a.href);
  }
  return out;
}
"""


def transfer_size(html: Path, url_path: str, body_size: int) -> int:
    """Bytes a browser receives for ``url_path`` (e.g. ``/_static/x.css?v=1``) of the book at
    ``html`` from a static host: text files (``COMPRESSED_TYPES``) gzip-compressed at level
    6, as GitHub Pages and most hosts send them; anything else (images, fonts, binary
    decoder files, or a path that is not a file of the book) ``body_size`` as served."""
    path = unquote(urlsplit(url_path).path).lstrip("/")
    if path.endswith("/") or not path:
        path += "index.html"
    file = Path(html) / path
    if file.suffix.lower() in COMPRESSED_TYPES and file.is_file():
        return len(gzip.compress(file.read_bytes(), compresslevel=6, mtime=0))
    return body_size


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
    """``repository`` of a Jupyter Book ``_config.yml``: {'url', 'branch', 'path_to_book'}.

    ``url`` is '' while the book names no public repository (then no page may show a
    Colab or repository button).
    """
    config = yaml.safe_load(Path(config_path).read_text()) or {}
    if "repository" not in config or "url" not in (config["repository"] or {}):
        raise ValueError(f"{config_path}: no repository.url; set it to the GitHub repository "
                         "of the book, e.g. https://github.com/<owner>/<repo> (or '' for none)")
    repo = config["repository"]
    return {"url": str(repo["url"] or "").strip().rstrip("/").removesuffix(".git"),
            "branch": repo.get("branch", "main"),
            "path_to_book": (repo.get("path_to_book") or "").strip("/")}


def colab_url(repo: dict, notebook: str) -> str:
    """The Colab address of ``notebook`` (a path like ``chapters/01_x.ipynb``) in ``repo``."""
    owner_name = urlsplit(repo["url"]).path.strip("/")
    path = "/".join(p for p in (repo["path_to_book"], notebook) if p)
    return f"{COLAB}/{owner_name}/blob/{repo['branch']}/{path}"


def book_pages(html: Path) -> list[str]:
    """Every HTML page of a build, as paths relative to ``html`` (assets excluded)."""
    pages = [p.relative_to(html).as_posix() for p in sorted(Path(html).rglob("*.html"))]
    return [p for p in pages if p.split("/")[0] not in ASSET_DIRS]


def figure_problems(caption: str, alt: str) -> list[str]:
    """What is wrong with a figure's caption and alt text (the rules PAGE_PROBE applies)."""
    problems = []
    if len(caption.split()) < 3:
        problems.append("no caption")
    path_like = bool(re.fullmatch(r"\S*[/\\]\S*", alt)  # a path ('1/k' in a sentence is not)
                     or re.search(r"\.(png|jpe?g|gif|svg|webp)$", alt, re.I)
                     or re.match(r"[0-9a-f]{16,}", alt, re.I))
    if path_like or len([w for w in alt.split() if re.search(r"[a-z]", w, re.I)]) < 3:
        problems.append("no descriptive alt text")
    return problems


def snippet_problems(snippet: str) -> list[str]:
    """Raw LaTeX or JSON in a search result's snippet (it should read as text)."""
    found = RAW_SNIPPET.search(snippet)
    return [f"raw markup in a search snippet: {found.group(0)!r} in {snippet[:100]!r}"] if found else []


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


def _button_problems(html: Path, page: str, colab: list[str], buttons: list[str],
                     repo: dict | None) -> list[str]:
    if repo is None:
        return []
    if not repo["url"]:
        return ([f"Colab button although _config.yml names no repository: {u}" for u in colab]
                + [f"repository button although _config.yml names no repository: {u}"
                   for u in buttons])
    source = (html / "_sources" / page).with_suffix(".ipynb")
    if not source.is_file():
        return [f"Colab button on a page that is not a notebook: {u}" for u in colab]
    expected = colab_url(repo, Path(page).with_suffix(".ipynb").as_posix())
    if not colab:
        return [f"no Colab button (expected {expected})"]
    return [f"Colab button points at {u}, not at {expected}" for u in set(colab) if u != expected]


def _probe(page, opts: dict, attempts: int = 3) -> dict:
    """PAGE_PROBE's result; retried when the page navigates (index.html redirects)."""
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            page.wait_for_load_state("load")
            return page.evaluate(PAGE_PROBE, opts)
        except Error as error:
            if "context was destroyed" not in str(error) or attempt == attempts - 1:
                raise
            page.wait_for_timeout(500)


def _launch(pw):
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"no Chromium at {CHROMIUM}: install Debian's `chromium` "
                                "(apt-get install chromium) or set $CHROMIUM to its path")
    return pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])


def _context(browser, server, viewport: str, mode: str, problems_of):
    """A browser context at ``viewport`` in colour ``mode``; requests off localhost aborted.

    Routing every request also switches off the HTTP cache, so each page load transfers
    everything it uses, as a first visit does.
    """
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.add_init_script(f"try {{ localStorage.setItem('mode', '{mode}'); }} catch (e) {{}}")

    def route(r):
        url = r.request.url
        if url.startswith(server.url) or url.startswith(("data:", "blob:", "about:")):
            r.continue_()
        else:
            problems_of().append(f"request leaves localhost: {url}")
            r.abort()

    context.route("**/*", route)
    return context


def shot_name(page_name: str, viewport: str, mode: str) -> str:
    """Screenshot file name: ``intro.png`` (desktop, light), ``intro-phone-dark.png``, ..."""
    stem = page_name.replace("/", "__").removesuffix(".html")
    suffix = "" if (viewport, mode) == PASSES[0] else f"-{viewport}-{mode}"
    return f"{stem}{suffix}.png"


def check_book(html: Path, repo: dict | None = None, screenshots: Path | None = None,
               shoot: tuple[str, ...] = (), pages: list[str] | None = None,
               timeout_ms: int = 60_000, passes=PASSES, budget: int | None = PAGE_BUDGET,
               budget_pages=lambda page: page.startswith("chapters/"),
               search: dict | None = None) -> dict[str, list[str]]:
    """Open every page of the built book ``html`` in headless Chromium; problems per page.

    ``repo``: the configured repository (``repository()``), for the button checks; None skips
    them. ``shoot``: pages to save as full-page PNGs into ``screenshots``, in every pass.
    ``passes``: (viewport, colour mode) pairs; the first is the full check. ``budget``: the
    most bytes a first visit of a page for which ``budget_pages(page)`` is true may transfer
    (None: not measured). ``search``: {query: pages its results must include} for
    :func:`check_search`. Returns ``{page: [problem, ...]}`` with only the pages that have
    problems (empty when all is well); a problem from a pass other than the first starts
    with that pass, e.g. ``[phone dark]``.
    """
    from playwright.sync_api import sync_playwright

    html = Path(html).resolve()
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"{html} has no index.html: build the book first "
                                "(make book, or jupyter-book build .)")
    pages = pages if pages is not None else book_pages(html)
    server = _Server(html)
    report: dict[str, list[str]] = {}
    cache: dict = {}
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = _launch(pw)
            for number, (viewport, mode) in enumerate(passes):
                full = number == 0
                label = "" if full else f"[{viewport} {mode}] "
                context = _context(browser, server, viewport, mode, lambda: problems)
                for page_name in pages:
                    problems = []
                    del server.failures[:]
                    sizes: list[tuple[str, int]] = []
                    page = context.new_page()
                    page.on("console", lambda m: m.type == "error" and problems.append(
                        f"console error: {m.text[:200]}"))
                    page.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
                    page.on("requestfinished", lambda r: sizes.append(
                        (r.url, r.sizes().get("responseBodySize", 0))))
                    page.goto(server.url + page_name, wait_until="load", timeout=timeout_ms)
                    probe = _probe(page, {"full": full, "phone": viewport == "phone",
                                          "minContrast": MIN_CONTRAST})
                    page.wait_for_timeout(200)  # late requests (fonts) reach the server log
                    if probe["theme"] != mode:
                        problems.append(f"colour mode {mode!r} was not applied "
                                        f"(data-theme={probe['theme']!r})")
                    problems += [f"hard to read ({mode} mode): {t}" for t in probe["contrast"][:5]]
                    problems += [f"too wide: {t}" for t in probe["wide"]]
                    problems += [f"formula: {t}" for t in probe["clipped"]]
                    problems += [f"phone: {t}" for t in probe["small"]]
                    if probe["pageWidth"]:
                        problems.append(probe["pageWidth"])
                    problems += list(dict.fromkeys(server.failures))
                    if full:
                        problems += [f"error output: {t}" for t in probe["errors"]]
                        problems += [f"image does not load: {s}" for s in probe["images"]]
                        problems += [f"formula: {t}" for t in probe["math"]]
                        problems += [f"raw TeX in text: {t}" for t in probe["raw"]]
                        problems += probe["figures"] + probe["widgets"]
                        if probe["search"] > 1 and page_name != "search.html":  # that page is one
                            problems.append(f"{probe['search']} search boxes visible (one is enough)")
                        problems += _link_problems(html, server.url, probe["links"], cache)
                        problems += _button_problems(html, page_name, probe["colab"],
                                                     probe["buttons"], repo)
                        if budget is not None and budget_pages(page_name):
                            total = sum(transfer_size(html, url.removeprefix(server.url),
                                                      body) for url, body in sizes)
                            if total > budget:
                                raw = sum(body for _, body in sizes)
                                problems.append(f"first visit transfers {total / 1e6:.2f} MB "
                                                f"({len(sizes)} requests, text gzipped; "
                                                f"{raw / 1e6:.2f} MB uncompressed), more than "
                                                f"{budget / 1e6:.2f} MB")
                    if page_name in shoot and screenshots is not None:
                        screenshots.mkdir(parents=True, exist_ok=True)
                        # A full-page capture resizes the window; the sidebar's slide
                        # transition would be caught half-way.
                        page.add_style_tag(content="*, *::before { transition: none !important; "
                                                   "animation: none !important; }")
                        page.screenshot(path=str(screenshots / shot_name(page_name, viewport, mode)),
                                        full_page=True)
                    page.close()
                    if problems:
                        kept = report.setdefault(page_name, [])
                        kept += [label + p for p in dict.fromkeys(problems) if label + p not in kept]
                context.close()
            if search:
                for key, found in check_search(browser, server, search, timeout_ms).items():
                    report[key] = found
            browser.close()
    finally:
        server.close()
    return report


SEARCH_DONE = """() => {
  const s = document.querySelector('#search-results');
  if (!s) return false;
  return /found|did not match|Search finished/i.test(s.innerText);
}"""


def check_search(browser, server, queries: dict, timeout_ms: int = 60_000) -> dict[str, list[str]]:
    """Each query on the book's search page: its results include the expected pages, and
    every snippet reads as text (no raw LaTeX or JSON). ``{'search: <query>': [problem]}``."""
    report: dict[str, list[str]] = {}
    problems: list[str] = []
    context = _context(browser, server, "desktop", "light", lambda: problems)
    for query, expected in queries.items():
        problems = []
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
        page.goto(server.url + "search.html?q=" + quote(query), wait_until="load",
                  timeout=timeout_ms)
        page.wait_for_function(SEARCH_DONE, timeout=timeout_ms)
        page.wait_for_timeout(1500)  # snippets are fetched one result after another
        results = page.evaluate("""() => [...document.querySelectorAll('#search-results li')]
            .map(li => [li.querySelector('a') ? li.querySelector('a').getAttribute('href') : '',
                        li.querySelector('p.context') ? li.querySelector('p.context').textContent : ''])""")
        found = {href.split("#")[0].split("?")[0] for href, _ in results}
        problems += [f"no result on {page_name}" for page_name in expected
                     if page_name not in found]
        for href, snippet in results:
            problems += snippet_problems(snippet)
        if not results:
            problems.append("no results")
        page.close()
        if problems:
            report[f"search: {query}"] = list(dict.fromkeys(problems))
    context.close()
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default=str(ROOT / "_build" / "html"),
                        help="the built book (default: _build/html)")
    parser.add_argument("--config", default=str(ROOT / "_config.yml"),
                        help="the book's _config.yml, for the repository (button checks)")
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
    report = check_book(html, repository(Path(args.config)), shots, shoot,
                        search=SEARCH_QUERIES)
    for page, problems in report.items():
        print(f"{page}:")
        for problem in problems:
            print(f"  - {problem}")
    print(f"{len(pages)} pages checked in {len(PASSES)} passes (desktop and phone, light and "
          f"dark), {len(report)} with problems; screenshots in {shots}")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
