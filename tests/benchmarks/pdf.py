"""PDF benchmark: the sub-branch rectification list (整改清单) with 20 and 200 findings.

Run with ``python -m tests.benchmarks.pdf``. It measures, in one run (median of a few repetitions):

- ``list20_ms`` / ``list200_ms``: WeasyPrint via :func:`inspect_app.reports.pdf.render_pdf`, 20 and
  200 findings over 5 outlets, each with one before- and one after-photo (thumbnails); timed in
  interleaved rounds (two 20-finding renders, then one 200-finding render), medians;
- ``chromium20_ms``: the same 20-finding HTML printed by headless Chromium (Playwright,
  ``page.set_content`` + ``page.pdf``), images inlined as ``data:`` URIs, browser start-up
  excluded;
- ``list20_kb`` / ``list200_kb``: PDF sizes; ``naive20_kb``: the 20-finding list embedding the
  original photos instead of the thumbnails;
- ``peak_rss_mb``: peak RSS of a fresh child process rendering the 200-finding list.

The last line is machine-readable:

    pdf: list20_ms=<n> list200_ms=<n> chromium20_ms=<n> list20_kb=<n> list200_kb=<n> naive20_kb=<n> peak_rss_mb=<n>

Targets (issue 6): list20_ms ≤ 600, list200_ms ≤ 8 × list20_ms, list20_kb ≤ 1500,
naive20_kb / list20_kb ≥ 10, peak_rss_mb ≤ 400. A benchmark, not a test: nothing asserts on time.
"""

from __future__ import annotations

import base64
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from inspect_app.reports import pdf
from tests.benchmarks._data import PhotoSet, rectification_list

REPEAT = 5
ROUNDS = 4
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of ``fn`` over ``repeat`` runs, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def chromium_html(context: dict, photos: PhotoSet) -> str:
    """The same HTML WeasyPrint prints, with the stylesheet inlined and photos as data: URIs."""
    html = pdf.render_html("rectification_list.html", context)
    css = pdf.STYLESHEET.read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        data = base64.b64encode(photos.fetch(match[1])).decode()
        return f'src="data:image/jpeg;base64,{data}"'

    html = re.sub(r'src="evidence:([^"]+)"', inline, html)
    return html.replace("</head>", f"<style>{css}</style></head>", 1)


def chromium_ms(html: str) -> float:
    """Median time for headless Chromium to print ``html`` to an A4 PDF, start-up excluded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()

            def once() -> bytes:
                page.set_content(html, wait_until="load")
                return page.pdf(format="A4", print_background=True)

            once()  # warm-up: first layout and font loading in a fresh renderer
            ms, _ = median_ms(once, REPEAT)
        finally:
            browser.close()
    return ms


def child_peak_rss() -> int:
    """Peak RSS (MB) of a fresh interpreter that renders the 200-finding list once."""
    out = subprocess.run([sys.executable, "-m", "tests.benchmarks.pdf", "--child-200"],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip().splitlines()[-1])


def _child() -> None:
    photos = PhotoSet()
    context = rectification_list(200, photos)
    pdf.render_pdf("rectification_list.html", context, fetch_image=photos.fetch)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def main() -> None:
    """Build the data, run every measurement, print the figures and the summary line."""
    print(f"HarfBuzz subsetter: {pdf.harfbuzz_subsetter_available()}")
    started = time.perf_counter()
    photos = PhotoSet()
    list20 = rectification_list(20, photos)
    list200 = rectification_list(200, photos)
    print(f"data: {len(photos.blobs)} thumbnails in {time.perf_counter() - started:.1f} s "
          f"(originals cached under /tmp)")

    started = time.perf_counter()
    pdf.warm_up()
    print(f"warm-up (fonts, stylesheet, templates; once per process): "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")

    def render(context: dict) -> Callable[[], bytes]:
        return lambda: pdf.render_pdf("rectification_list.html", context,
                                      fetch_image=photos.fetch)

    render(list20)()  # first render loads the fonts' faces; not what a worker pays per PDF
    # Interleaved rounds: this machine's speed drifts by up to 2× over minutes, so the two
    # lists are timed side by side, round after round, and each figure is a median.
    times20, times200 = [], []
    for _ in range(ROUNDS):
        for _ in range(2):
            ms, pdf20 = median_ms(render(list20), 1)
            times20.append(ms)
        ms, pdf200 = median_ms(render(list200), 1)
        times200.append(ms)
        print(f"  round: list20 {times20[-2]:.0f} / {times20[-1]:.0f} ms, "
              f"list200 {times200[-1]:.0f} ms")
    list20_ms, list200_ms = statistics.median(times20), statistics.median(times200)
    print(f"list20: {list20_ms:.0f} ms, {len(pdf20) / 1024:.0f} KB")
    print(f"list200: {list200_ms:.0f} ms, {len(pdf200) / 1024:.0f} KB "
          f"({list200_ms / list20_ms:.1f} × list20)")

    naive = rectification_list(20, photos, originals=True)
    naive_pdf = render(naive)()
    print(f"naive20 (original photos embedded): {len(naive_pdf) / 1024:.0f} KB "
          f"({len(naive_pdf) / len(pdf20):.0f} × list20)")

    chrome_ms = chromium_ms(chromium_html(list20, photos))
    print(f"chromium20: {chrome_ms:.0f} ms (headless Chromium, browser start-up excluded)")

    peak = child_peak_rss()
    print(f"peak RSS, fresh process rendering list200: {peak} MB")
    print(f"pdf: list20_ms={list20_ms:.0f} list200_ms={list200_ms:.0f} "
          f"chromium20_ms={chrome_ms:.0f} list20_kb={len(pdf20) / 1024:.0f} "
          f"list200_kb={len(pdf200) / 1024:.0f} naive20_kb={len(naive_pdf) / 1024:.0f} "
          f"peak_rss_mb={peak}")


if __name__ == "__main__":
    if "--child-200" in sys.argv:
        _child()
    else:
        main()
