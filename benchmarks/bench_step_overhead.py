"""Fixed cost of one daily step: papermill on an empty notebook (kernel start + execute + save).

Prints medians over N runs of
  a) a bare `python -c pass` process (the floor of any subprocess),
  b) papermill.execute_notebook in this process (kernel start, one cell, save),
  c) the driver's real path: `python -m runner.worker` in a child process (what a step costs).
Usage: python benchmarks/bench_step_overhead.py [N]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
from nbformat.v4 import new_code_cell, new_notebook
from result_line import emit, figure

from runner.kernel import DEFAULT_KERNEL, ensure_kernel


def empty_notebook(path: Path) -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": DEFAULT_KERNEL, "language": "python",
                                 "display_name": "Python"}
    cell = new_code_cell('run_id: str = "bench"')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, str(path))


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def empty_step_spec(folder: Path, kernel: str) -> tuple[Path, Path]:
    """An empty notebook and the worker spec that runs it as the driver runs a step."""
    source = folder / "empty.ipynb"
    empty_notebook(source)
    spec = {"input": str(source), "output": str(folder / "out_worker.ipynb"),
            "parameters": {"run_id": "bench"}, "kernel_name": kernel,
            "execution_timeout": 60, "cwd": str(folder), "result_path": str(folder / "r.json")}
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec))
    return source, spec_path


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    kernel = ensure_kernel(DEFAULT_KERNEL)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        source, spec_path = empty_step_spec(tmpdir, kernel)

        floor = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), n)
        in_process = timed(lambda: papermill.execute_notebook(
            str(source), str(tmpdir / "out.ipynb"), parameters={"run_id": "bench"},
            kernel_name=kernel, progress_bar=False), n)
        worker = timed(lambda: subprocess.run(
            [sys.executable, "-m", "runner.worker", str(spec_path)], check=True), n)

    def report(label: str, values: list[float]) -> float:
        med = statistics.median(values)
        print(f"{label:<48} median {med:6.3f} s  (min {min(values):.3f}, max {max(values):.3f})")
        return med

    print(f"per-step overhead, empty notebook, {n} runs each")
    base = report("baseline: python -c pass", floor)
    pm = report("papermill in-process (kernel start + save)", in_process)
    wk = report("runner step: worker process + papermill", worker)
    print(f"ratio papermill / baseline: {pm / base:5.1f}x; worker / papermill: {wk / pm:4.2f}x")
    emit([figure("runner step on an empty notebook (worker + papermill)", wk, "s"),
          figure("papermill in-process on an empty notebook", pm, "s"),
          figure("python -c pass", base, "s", baseline=True)])


if __name__ == "__main__":
    main()
