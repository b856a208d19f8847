"""`python -m benchmarks`: every benchmarks/bench_*.py, each in its own process, then one table.

    .venv/bin/python -m benchmarks [--quick] [--only NAME[,NAME]] [--list] [--json PATH]

Each benchmark prints its own figures (shown here as they come) and, last, a line
`BENCH_RESULT {json}` (benchmarks/result_line.py) from which the table is built: benchmark,
figure, result, target (where one is set), verdict (met / missed / -), seconds taken. A
benchmark that crashes, times out or prints no result line is a row of the table with its
exit code and its last stderr line; the others still run.

Exit 0 when every benchmark ran (a missed target is a verdict, not an error), 1 when one
did not, 2 on bad usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.result_line import PREFIX, verdict

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Arguments of each benchmark: (full run, --quick). The quick ones keep every figure but cut
# repeats, sizes and days so the whole run stays within minutes; their figures are noisier.
# A bench_*.py not named here runs without arguments in both modes.
ARGUMENTS: dict[str, tuple[list[str], list[str]]] = {
    "step_overhead": (["5"], ["3"]),
    "parsers": (["--repeat", "5"], ["--repeat", "3"]),
    "html_guard": (["--repeat", "5"], ["--repeat", "2"]),
    "ingest": (["--sizes", "1,5,10", "--repeat", "5"], ["--sizes", "1", "--repeat", "3"]),
    "demo_season": (["--repeat", "5"], ["--repeat", "2", "--no-peak-memory"]),
    "production": (["--repeat", "3"], ["--repeat", "2"]),
    "slate16": (["--repeat", "5"], ["--repeat", "2"]),
    "ev": (["--repeat", "5"], ["--repeat", "2"]),
    "render": (["--repeat", "3", "--days", "30", "365", "1000"],
               ["--repeat", "1", "--days", "30", "365"]),
    "demo_day": (["--days", "5"],
                 ["--days", "3", "--baseline-repeat", "3", "--import-repeat", "1"]),
    "accuracy": (["--days", "31"], ["--days", "7"]),
    "ev_truth": (["--days", "7"], ["--days", "2"]),
    "growth": (["--slates", "4"], ["--slates", "2"]),
}
# Run order: the cheap ones first, then the bars, then the long quality checks.
ORDER = ("step_overhead", "parsers", "html_guard", "ingest", "demo_season", "production", "slate16", "ev",
         "render", "demo_day", "accuracy", "ev_truth", "growth")
# A benchmark still running after this long is stopped (its whole process group) and counted
# as failed, so that one hang does not hold up the rest.
TIMEOUT_SECONDS = {False: 3600.0, True: 1200.0}


class UsageFailure(Exception):
    """Bad usage: reported in one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageFailure(f"{self.prog}: error: {message}")


@dataclass
class Outcome:
    name: str
    command: list[str]
    exit_code: int | None = None
    seconds: float = 0.0
    error: str | None = None  # why it did not run to its result line
    figures: list[dict] = field(default_factory=list)


def discover() -> dict[str, Path]:
    """name -> script, in run order: the known ones first, then any new bench_*.py."""
    scripts = {p.stem.removeprefix("bench_"): p for p in BENCH_DIR.glob("bench_*.py")}
    known = [n for n in ORDER if n in scripts]
    return {n: scripts[n] for n in [*known, *sorted(set(scripts) - set(known))]}


def description(script: Path, width: int = 150) -> str:
    """The first paragraph of the script's docstring, on one line."""
    doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    return text if len(text) <= width else text[: width - 3] + "..."


def arguments(name: str, quick: bool) -> list[str]:
    full, fast = ARGUMENTS.get(name, ([], []))
    return list(fast if quick else full)


def parse_result(line: str) -> list[dict]:
    figures = json.loads(line[len(PREFIX):])["figures"]
    if not isinstance(figures, list):
        raise ValueError("figures is not a list")
    return figures


def run_one(name: str, script: Path, quick: bool) -> Outcome:
    """Run one benchmark, echoing its output; its figures from its last result line."""
    command = [sys.executable, str(script), *arguments(name, quick)]
    outcome = Outcome(name, command)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its figures appear as they are printed
    result_line = None
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
        t0 = time.perf_counter()
        # its own session, so that a timeout can stop it with every process it started
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=stderr, text=True, errors="replace",
                                start_new_session=True)
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):  # it ended just now
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(TIMEOUT_SECONDS[quick], stop)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith(PREFIX):
                    result_line = line.strip()
                else:
                    print(f"  {line}", end="", flush=True)
            outcome.exit_code = proc.wait()
        except BaseException:  # Ctrl-C: do not leave the benchmark running
            stop()
            proc.wait()
            raise
        finally:
            timer.cancel()
        outcome.seconds = time.perf_counter() - t0
        stderr.seek(0)
        errors = [x.strip() for x in stderr.read().splitlines() if x.strip()]

    last_error = errors[-1] if errors else "(nothing on stderr)"
    if timed_out.is_set():
        outcome.error = f"stopped after {TIMEOUT_SECONDS[quick]:.0f} s; {last_error}"
    elif outcome.exit_code != 0:
        outcome.error = last_error
    elif result_line is None:
        outcome.error = f"no {PREFIX.strip()} line; {last_error}"
    else:
        try:
            outcome.figures = parse_result(result_line)
        except (ValueError, KeyError, TypeError) as exc:
            outcome.error = f"unreadable {PREFIX.strip()} line: {exc}"
    if outcome.error:
        print(f"  {name} FAILED (exit {outcome.exit_code}); the end of its stderr:")
        for line in errors[-15:]:
            print(f"  ! {line}")
    return outcome


def format_number(value: float) -> str:
    size = abs(value)
    if float(value).is_integer() and size < 1000:
        return f"{value:.0f}"  # a count, or a round bar
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_value(fig: dict) -> str:
    if fig.get("value") is None:
        return "n/a"
    return f"{format_number(fig['value'])} {fig['unit']}".strip()


def format_target(fig: dict) -> str:
    if not fig.get("target"):
        return "-"
    op, bar = fig["target"]
    return f"{op} {format_number(bar)} {fig['unit']}".strip()


def table_rows(outcomes: list[Outcome]) -> list[list[str]]:
    rows = []
    for outcome in outcomes:
        seconds = f"{outcome.seconds:.0f}"
        if outcome.error:
            error = outcome.error.replace("|", "/")  # a pipe would split the Markdown cell
            error = error if len(error) <= 110 else error[:107] + "..."
            rows.append([outcome.name, f"did not run: exit {outcome.exit_code}", error, "-",
                         "failed", seconds])
            continue
        for i, fig in enumerate(outcome.figures):
            label = f"baseline: {fig['name']}" if fig.get("baseline") else fig["name"]
            rows.append([outcome.name if i == 0 else "", label, format_value(fig),
                         format_target(fig), verdict(fig), seconds if i == 0 else ""])
    return rows


def print_table(outcomes: list[Outcome]) -> None:
    """One Markdown table (readable as text, pastes into a README)."""
    header = ["benchmark", "figure", "result", "target", "verdict", "seconds"]
    rows = table_rows(outcomes)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 5}  # numbers line up on the right

    def line(cells: list[str]) -> str:
        # a failed benchmark's error message reads from the left
        align = {5} if cells[4] == "failed" else right
        return "| " + " | ".join(c.rjust(w) if i in align else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))
                                 ) + " |"

    print(line(header))
    print("|" + "|".join("-" * (w + 1) + (":" if i in right else "-")
                         for i, w in enumerate(widths)) + "|")
    for row in rows:
        print(line(row))


def cpu_model() -> str:
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    return {"cpu_count": os.cpu_count(), "cpu_model": cpu_model(),
            "python": platform.python_version()}


def write_json(path: Path, outcomes: list[Outcome], quick: bool, started: datetime,
               seconds: float) -> None:
    document = {
        "date_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quick": quick,
        "machine": machine(),
        "total_seconds": round(seconds, 1),
        "benchmarks": [
            {"name": o.name, "arguments": o.command[2:], "exit_code": o.exit_code,
             "seconds": round(o.seconds, 1), "error": o.error,
             "figures": [{**f, "verdict": verdict(f)} for f in o.figures]}
            for o in outcomes],
    }
    path.write_text(json.dumps(document, indent=1) + "\n")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(prog="python -m benchmarks",
                     description="Run every benchmark, each in its own process, and print "
                                 "one table of their figures.")
    parser.add_argument("--quick", action="store_true",
                        help="small repeats, sizes and days (the whole run in minutes)")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help="run only these benchmarks (names as --list prints them)")
    parser.add_argument("--list", action="store_true",
                        help="list the benchmarks and their arguments, run nothing")
    parser.add_argument("--json", metavar="PATH", type=Path,
                        help="also write the results, the machine and the date as JSON")
    return parser.parse_args(argv)


def select(available: dict[str, Path], only: str | None) -> dict[str, Path]:
    if only is None:
        return available
    wanted = [n.strip().removesuffix(".py").removeprefix("bench_")
              for n in only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in available]
    if unknown or not wanted:
        raise UsageFailure(f"python -m benchmarks: error: unknown benchmark "
                           f"{', '.join(unknown) or repr(only)}; known: "
                           f"{', '.join(available)}")
    return {n: available[n] for n in available if n in wanted}


def main(argv: list[str] | None = None) -> int:
    available = discover()
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        chosen = select(available, args.only)
        if args.json is not None and not args.json.parent.is_dir():
            raise UsageFailure(f"python -m benchmarks: error: --json: no folder "
                               f"{args.json.parent}")
    except UsageFailure as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE

    if args.list:
        for name, script in chosen.items():
            print(f"{name:<14} {description(script)}")
            print(f"{'':<14} full:  {' '.join(arguments(name, False)) or '(no arguments)'}")
            print(f"{'':<14} quick: {' '.join(arguments(name, True)) or '(no arguments)'}")
        return EXIT_OK

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    outcomes = []
    for name, script in chosen.items():
        print(f"== {name}: {script.relative_to(REPO)} {' '.join(arguments(name, args.quick))}",
              flush=True)
        try:
            outcomes.append(run_one(name, script, args.quick))
        except KeyboardInterrupt:  # run_one has stopped the benchmark
            print(f"interrupted during {name}", file=sys.stderr)
            return 130
        print(f"== {name}: {outcomes[-1].seconds:.0f} s\n", flush=True)
    total = time.perf_counter() - t0

    info = machine()
    print(f"Benchmarks{' (--quick)' if args.quick else ''}: {started:%Y-%m-%d %H:%M} UTC, "
          f"{info['cpu_count']} cores ({info['cpu_model']}), Python {info['python']}; "
          f"{total:.0f} s in all")
    print_table(outcomes)
    failed = [o.name for o in outcomes if o.error]
    if failed:
        print(f"did not run to the end: {', '.join(failed)}")
    if args.json is not None:
        write_json(args.json, outcomes, args.quick, started, total)
        print(f"results written to {args.json}")
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
