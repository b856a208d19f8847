"""Runs ONE notebook through papermill in its own process and classifies the outcome.

The daily driver starts this as a child process (`python -m runner.worker SPEC.json`) so it
can enforce a hard wall-clock limit by killing the whole process. The classification is
written to the spec's result file as JSON: status, error_type, error_summary.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from helpers.step_status import read_step_status

TIMEOUT_LOG_MARKER = "Timeout waiting for execute reply"


class _TimeoutSpotter(logging.Handler):
    """nbclient logs a cell timeout before interrupting the kernel; remember that it did."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        if TIMEOUT_LOG_MARKER in record.getMessage():
            self.seen = True


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def add_failure_banner(notebook_path: Path, status: str, error_type: str, summary: str) -> None:
    """Put a red banner at the top of a saved notebook whose failure papermill did not mark."""
    if not notebook_path.exists():
        return
    nb = nbformat.read(str(notebook_path), as_version=4)
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; '
        f'font-size:2em;">Step {status}: {error_type}</span>\n\n{summary}'
    )
    banner.metadata["tags"] = ["ops-failure-banner"]
    nb.cells.insert(0, banner)
    nbformat.write(nb, str(notebook_path))


def execute(spec: dict[str, Any]) -> dict[str, str | None]:
    spotter = _TimeoutSpotter()
    logging.getLogger("papermill").addHandler(spotter)
    output = Path(spec["output"])
    try:
        nb = papermill.execute_notebook(
            spec["input"], str(output),
            parameters=spec["parameters"],
            kernel_name=spec["kernel_name"],
            execution_timeout=spec["execution_timeout"],
            interrupt_on_timeout=True,
            start_timeout=spec.get("start_timeout", 60),
            progress_bar=False,
            log_output=False,
            cwd=spec.get("cwd"),
        )
    except PapermillExecutionError as exc:
        if spotter.seen:
            return {"status": "timeout", "error_type": "CellTimeoutError",
                    "error_summary": one_line(
                        f"cell {exc.exec_count} ran past execution_timeout="
                        f"{spec['execution_timeout']:g}s; kernel interrupted")}
        return {"status": "failed", "error_type": exc.ename,
                "error_summary": one_line(f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}")}
    except CellTimeoutError as exc:
        result = {"status": "timeout", "error_type": "CellTimeoutError",
                  "error_summary": one_line(str(exc))}
    except DeadKernelError as exc:
        result = {"status": "failed", "error_type": "DeadKernelError",
                  "error_summary": one_line(f"kernel died: {exc}")}
    except Exception as exc:  # noqa: BLE001 - every other failure is classified, not lost
        result = {"status": "failed", "error_type": type(exc).__name__,
                  "error_summary": one_line(str(exc) or repr(exc))}
        traceback.print_exc()
    else:
        status = read_step_status(nb)
        if status is None or status[0] == "success":
            return {"status": "success", "error_type": None,
                    "error_summary": status[1] if status else None}
        return {"status": status[0], "error_type": "PartialStep",
                "error_summary": one_line(status[1])}
    add_failure_banner(output, result["status"], result["error_type"], result["error_summary"])
    return result


def _terminate(signum: int, frame: object) -> None:
    # Turn the driver's SIGTERM into an exception so papermill saves the notebook and
    # nbclient shuts the kernel down on the way out.
    raise SystemExit(f"terminated by signal {signum} (wall-clock limit)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    result = execute(spec)
    Path(spec["result_path"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
