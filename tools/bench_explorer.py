"""Measure the book's latent explorers: bytes per explorer, and time per frame in Chromium.

    python tools/bench_explorer.py [_build/html] [--frames 400] [--update BENCHMARKS.md]

Opens every page of a built book that shows a latent explorer (``course_utils.explorer``)
in headless Chromium (Debian's ``/usr/bin/chromium`` or ``$CHROMIUM``, served on
127.0.0.1), and measures, per decoder file the page loads:

* **bytes**: the file's size (what a reader downloads for that decoder), and the sum per
  explorer (chapter 09's panel loads two decoders);
* **decode**: milliseconds per frame of ``LatentExplorer.decode`` alone, on ``--frames``
  seeded codes spread over the explorer's range, after a warm-up;
* **update**: milliseconds per frame of a whole update as the reader triggers it (decode,
  draw the image, repaint the map or the readout), driven by ``--frames`` keyboard or
  slider events dispatched in the page.

Each time is the median of ``--rounds`` rounds; the machine's load average before and after
is recorded beside them (a busy machine makes every time longer).

It prints a table and, with ``--update FILE``, writes it into its own section of that file
(between ``<!-- explorer-bench:start -->`` and ``<!-- explorer-bench:end -->``; appended the
first time). Times depend on the machine and its load: they are reported, never asserted.
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "_ext"))
import benchmarks_md  # noqa: E402
import check_book  # noqa: E402
import explorer_assets  # noqa: E402

START, END = "<!-- explorer-bench:start -->", "<!-- explorer-bench:end -->"

# In the page: decode ``frames`` seeded codes in the box, after a warm-up.
DECODE = """
async ([src, frames]) => {
  const buffer = await (await fetch(src)).arrayBuffer();
  const model = LatentExplorer.parseAsset(buffer);
  const d = model.latentDim, box = model.description.box || 3;
  let seed = 12345;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const codes = Array.from({length: frames}, () =>
    Float32Array.from({length: d}, () => (2 * rand() - 1) * box));
  const out = new Float32Array(model.imageShape.reduce((a, b) => a * b, 1));
  for (let k = 0; k < 50; k++) LatentExplorer.decode(model, codes[k % frames], out);
  const t0 = performance.now();
  for (const z of codes) LatentExplorer.decode(model, z, out);
  const t1 = performance.now();
  const params = model.layers.reduce((n, l) => n + l.nIn * l.nOut + l.nOut, 0);
  return {ms: (t1 - t0) / frames, bytes: buffer.byteLength, latent: d, params: params,
          dtype: model.description.dtype, profile: model.description.profile || ''};
}
"""

# In the page: ``frames`` whole updates of one explorer, as events a reader would cause.
UPDATE = """
([index, frames]) => {
  const root = document.querySelectorAll('.latent-explorer')[index];
  const map = root.querySelector('canvas.lx-map-canvas');
  const slider = root.querySelector('input[type=range]');
  const before = Number(root.dataset.updates);
  const t0 = performance.now();
  for (let k = 0; k < frames; k++) {
    if (map) {
      map.dispatchEvent(new KeyboardEvent('keydown', {key: k % 2 ? 'ArrowLeft' : 'ArrowRight',
                                                      bubbles: true}));
    } else {
      slider.value = String(k % 2 ? -1.5 : 1.5);
      slider.dispatchEvent(new Event('input', {bubbles: true}));
    }
  }
  const t1 = performance.now();
  if (Number(root.dataset.updates) - before !== frames) throw new Error('not every event redrew');
  return (t1 - t0) / frames;
}
"""


def explorer_pages(html: Path) -> dict[str, list[list[dict]]]:
    """``{page: [explorer entries, ...]}`` for every built page that shows an explorer."""
    pages = {}
    for name in check_book.book_pages(html):
        text = (html / name).read_text(errors="replace")
        found = [explorer_assets.page_assets(m.group(0) + ">")
                 for m in explorer_assets.PLACEHOLDER.finditer(text)]
        if found:
            pages[name] = found
    return pages


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def measure(html: Path, frames: int = 400, rounds: int = 3) -> tuple[list[dict], str]:
    """One row per decoder file, and the browser's version."""
    from playwright.sync_api import sync_playwright

    rows = []
    server = check_book._Server(html)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=check_book.CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
            version = browser.version
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, explorers in explorer_pages(html).items():
                page.goto(server.url + name, wait_until="load")
                page.wait_for_function("() => [...document.querySelectorAll("
                                       "'.latent-explorer')].every(e => e.dataset.ready)")
                for index, entries in enumerate(explorers):
                    for entry in entries:
                        runs = [page.evaluate(DECODE, [entry["src"], frames])
                                for _ in range(rounds)]
                        row = {**runs[0], "ms": _median([r["ms"] for r in runs])}
                        rows.append({"page": name, "explorer": index, "src": entry["src"],
                                     "title": entry["title"], "explorer_bytes": None, **row})
                    update_ms = _median([page.evaluate(UPDATE, [index, frames])
                                         for _ in range(rounds)])
                    for r in rows[-len(entries):]:
                        r["update_ms"] = update_ms
                    total = sum(r["bytes"] for r in rows[-len(entries):])
                    for r in rows[-len(entries):]:
                        r["explorer_bytes"] = total
            browser.close()
    finally:
        server.close()
    return rows, version


def section(rows: list[dict], frames: int, version: str, machine: str, command: str,
            load: tuple = (), rounds: int = 1) -> str:
    profiles = sorted({r["profile"] for r in rows if r["profile"]})
    average = lambda a: " / ".join(f"{x:.2f}" for x in a)  # noqa: E731
    lines = [START, "## Latent explorers in the page (tools/bench_explorer.py)", "",
             f"Written by `{command}` on {datetime.date.today().isoformat()} from a book built "
             f"in the `{'/'.join(profiles) or '?'}` profile, in headless Chromium {version}.",
             "", f"- Machine: `{machine}`",
             *([f"- Load average (1/5/15 min) before: {average(load[0])}; after: "
                f"{average(load[1])}"] if load else []),
             f"- decode: `LatentExplorer.decode` alone, mean over {frames} seeded codes after a "
             "warm-up; update: a whole redraw as the reader causes it (decode, draw, repaint), "
             f"mean over {frames} keyboard or slider events; each the median of {rounds} rounds. "
             "30 updates per second need under 33 ms per update. Bytes per explorer: all the "
             "decoder files one explorer loads (chapter 09's panel runs two decoders).", "",
             "| page | decoder file | weights | parameters | bytes | bytes per explorer "
             "| decode (ms/frame) | update (ms/frame) |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['page']}` | `{r['src']}` ({r['title']}) | {r['dtype']} | "
                     f"{r['params']:,} | {r['bytes']:,} | {r['explorer_bytes']:,} | "
                     f"{r['ms']:.3f} | {r['update_ms']:.3f} |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace this script's section of ``path`` (or append it); nothing else changes."""
    benchmarks_md.write_section(path, text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default=str(ROOT / "_build" / "html"),
                        help="the built book (default: _build/html)")
    parser.add_argument("--frames", type=int, default=400, help="frames timed per decoder")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per time (median)")
    parser.add_argument("--update", metavar="FILE", help="write the section into FILE")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.rounds < 1:
        parser.error(f"--frames and --rounds must be at least 1, got {args.frames} and "
                     f"{args.rounds}")
    html = Path(args.html).resolve()
    if not (html / "index.html").is_file():
        parser.error(f"{html} has no index.html: build the book first (make book)")
    if not explorer_pages(html):
        parser.error(f"no page of {html} shows a latent explorer")
    before = os.getloadavg()
    rows, version = measure(html, args.frames, args.rounds)
    load = (before, os.getloadavg())
    from course_utils.runtime import describe
    machine = re.sub(r" \| profile: \w+", "", describe())   # the book's profile is given apart
    command = "python tools/bench_explorer.py" + (f" --update {args.update}" if args.update
                                                   else "")
    text = section(rows, args.frames, version, machine, command, load, args.rounds)
    print(text)
    if args.update:
        write_section(Path(args.update), text)
        print(f"written to {args.update}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
