"""The HTML nesting guard against the page that wedges the OddsShark parser.

Run:  .venv/bin/python benchmarks/bench_html_guard.py [--repeat 5]

A page with N unclosed <div> makes lexbor's tree build quadratic in N, in C code that no
signal interrupts. Figures (medians of --repeat):
1. the unguarded tree build at 10k, 20k and 40k unclosed <div>, and the 200k page's time
   extrapolated from them (the quadratic fit) - never run here: minutes;
2. the guard (`html_nesting_depth`) refusing the 200k page, and passing the clean page;
3. the worst page the guard lets through: MAX_HTML_DEPTH unclosed <div> followed by `</p>`
   end tags (each walks the open elements for a <p>) at 1, 4 and 16 MB: the tree build time
   that the bound leaves possible, beside the clean page's build as the same-run baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from result_line import emit, figure

from helpers.demo.faults import WEDGE_DIVS, wedged_page
from helpers.odds.vendors.parsing import MAX_HTML_DEPTH, html_nesting_depth

PAGE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "oddsshark" / \
    "nhl_player_props_captured_2026-03-09T0215Z.html"


def median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def with_divs(clean: str, divs: int, tail: str = "") -> str:
    cut = clean.find(">", clean.find("<body")) + 1
    return clean[:cut] + "<div>" * divs + tail + clean[cut:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    clean = PAGE.read_text()
    figures = []

    baseline = median_s(lambda: LexborHTMLParser(clean), args.repeat)
    print(f"clean page ({len(clean) / 1e3:.0f} KB) tree build: {baseline * 1e3:.2f} ms")
    figures.append(figure("clean page tree build", baseline * 1e3, "ms", baseline=True))

    sizes, times = [10_000, 20_000, 40_000], []
    for n in sizes:
        page = with_divs(clean, n)
        times.append(median_s(lambda page=page: LexborHTMLParser(page), max(1, args.repeat // 2)))
        print(f"unguarded tree build, {n:,} unclosed <div>: {times[-1]:.3f} s")
    # quadratic through the largest point: t(n) = t(n0) * (n / n0)^2
    extrapolated = times[-1] * (WEDGE_DIVS / sizes[-1]) ** 2
    print(f"unguarded, {WEDGE_DIVS:,} unclosed <div> (extrapolated, quadratic): "
          f"{extrapolated:.0f} s")
    figures.append(figure(f"unguarded build, {WEDGE_DIVS:,} divs (extrapolated)",
                          extrapolated, "s"))

    wedged = wedged_page(clean.encode()).decode()
    refuse = median_s(lambda: html_nesting_depth(wedged), args.repeat)
    passing = median_s(lambda: html_nesting_depth(clean), args.repeat)
    print(f"guard refusing the {WEDGE_DIVS:,}-div page: {refuse * 1e3:.2f} ms; "
          f"passing the clean page: {passing * 1e3:.2f} ms")
    figures.append(figure("guard refusing the wedge page", refuse * 1e3, "ms", ("<", 100)))
    figures.append(figure("guard on the clean page", passing * 1e3, "ms"))

    for mb in (1, 4, 16):
        page = with_divs(clean, MAX_HTML_DEPTH - html_nesting_depth(clean), "</p>" * (mb * 250_000))
        assert html_nesting_depth(page) <= MAX_HTML_DEPTH  # the guard lets it through
        t = median_s(lambda page=page: LexborHTMLParser(page), max(1, args.repeat // 2))
        print(f"worst page within the bound, {len(page) / 1e6:.1f} MB: {t:.3f} s "
              f"({t / (len(page) / 1e6):.3f} s/MB)")
        figures.append(figure(f"worst page within the bound, {mb} MB", t, "s"))
    emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
