"""The issue's bar: rendering the rolling report over 365 days of evidence in at most 20 s;
and how the render grows from 30 to 365 to 1,000 days of history.

Run:  .venv/bin/python benchmarks/bench_render.py [--repeat 3] [--days 30 365 1000]

For each history length a fresh database is filled by `evidence_history.generate_history`
(synthetic but realistic volumes: two runs a day, three vendors, ~25 books, five markets,
~2,000 graded bets a slate; the generation is not timed against the bar), then
`runner.render.render_reports` renders both reports for the last day, exactly as the runner
does after a run: a worker process, a kernel, the report notebook executed read-only, two
nbconvert exports, the atomic writes.

Prints, per history length, the median (and min-max) of --repeat renders: the whole render,
the notebook's cells (papermill's per-cell durations, i.e. the queries and the charts), and
the rest (worker and kernel start, imports, export, writes). The baseline is the same
render on an empty database: the fixed cost a render pays whatever the history.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evidence_history import generate_history
from result_line import emit, figure

from helpers.core import db
from helpers.core.settings import load_settings
from runner.kernel import DEFAULT_KERNEL, ensure_kernel
from runner.render import render_reports

END = date(2026, 3, 31)
BAR_SECONDS = 20.0
BAR_DAYS = 365


def render_once(home: Path, kernel: str) -> tuple[float, float]:
    """One render of END: (total seconds, seconds inside the notebook's cells)."""
    settings = load_settings({"OPS_HOME": str(home)})
    t0 = time.perf_counter()
    reports = render_reports(settings, END, kernel, cell_timeout_seconds=600,
                             wall_clock_seconds=1800)
    total = time.perf_counter() - t0
    nb = nbformat.read(str(reports.notebook), as_version=4)
    cells = sum(c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells)
    return total, cells


def measure(home: Path, kernel: str, repeat: int) -> dict[str, list[float]]:
    totals, cells = [], []
    for _ in range(repeat):
        total, inside = render_once(home, kernel)
        totals.append(total)
        cells.append(inside)
    return {"total": totals, "cells": cells, "rest": [t - c for t, c in zip(totals, cells,
                                                                              strict=True)]}


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 365, 1000])
    args = parser.parse_args()
    kernel = ensure_kernel(DEFAULT_KERNEL)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        base = Path(tmp)
        empty = base / "empty"
        db.connect(empty / "data" / "ops.duckdb").close()
        print(f"baseline: render on an empty database, {args.repeat} repeats", flush=True)
        results[0] = measure(empty, kernel, args.repeat)
        for days in args.days:
            home = base / f"h{days}"
            t0 = time.perf_counter()
            counts = generate_history(home / "data" / "ops.duckdb", END, days, seed=0)
            print(f"{days} days: generated {sum(counts.values()):,} rows in "
                  f"{time.perf_counter() - t0:.1f} s; rendering {args.repeat} times",
                  flush=True)
            results[days] = measure(home, kernel, args.repeat)
    print()
    print("| history | render (median, min-max) | notebook cells | worker, kernel, export |")
    print("|---|---|---|---|")
    for days, r in results.items():
        label = "empty (baseline)" if days == 0 else f"{days} days"
        print(f"| {label} | {fmt(r['total'])} | {fmt(r['cells'])} | {fmt(r['rest'])} |")
    base_total = statistics.median(results[0]["total"])
    for days in args.days:
        ratio = statistics.median(results[days]["total"]) / base_total
        print(f"{days} days: {ratio:.2f}x the empty-database render")
    if BAR_DAYS in results:
        median = statistics.median(results[BAR_DAYS]["total"])
        verdict = "PASS" if median <= BAR_SECONDS else "FAIL"
        print(f"bar: {BAR_DAYS} days rendered in {median:.2f} s (<= {BAR_SECONDS:.0f} s): "
              f"{verdict}")
    figures = [figure(f"render both reports, {days} days of history",
                      statistics.median(results[days]["total"]), "s",
                      ("<=", BAR_SECONDS) if days == BAR_DAYS else None)
               for days in args.days]
    figures.append(figure("render both reports, empty database", base_total, "s",
                          baseline=True))
    emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
