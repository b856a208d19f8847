"""Runs ONE notebook through papermill in its own process and classifies the outcome.

The daily driver starts this as a child process (`python -m runner.worker SPEC.json`) so it
can enforce a hard wall-clock limit by killing the whole process. The classification is
written to the spec's result file as JSON: status, error_type, error_summary.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from helpers.core.settings import load_settings, redact
from helpers.core.step_status import read_step_status
from runner.kernel import LOG_FORMAT, RedactingFilter, StepKernelManager

TIMEOUT_LOG_MARKER = "Timeout waiting for execute reply"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL_SECONDS = 1.0
EXIT_ORPHANED = 70
KILL_GRACE_SECONDS = 10
RESULT_POLL_SECONDS = 0.01


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


def _redact_tree(node: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(node, str):
        return redact(node, secrets)
    if isinstance(node, list):
        return [_redact_tree(item, secrets) for item in node]
    if isinstance(node, dict):
        return {key: _redact_tree(value, secrets) for key, value in node.items()}
    return node


def scrub_notebook(notebook_path: Path, secrets: tuple[str, ...]) -> bool:
    """Redact every secret value from a saved notebook (sources, outputs, tracebacks,
    metadata); True when something was redacted. An error message can quote a header value
    (requests does), and the notebook is read by people who must not see it."""
    if not secrets or not notebook_path.exists():
        return False
    text = notebook_path.read_text(encoding="utf-8")
    data = json.loads(text)
    clean = _redact_tree(data, secrets)
    if clean == data:
        return False
    notebook_path.write_text(json.dumps(clean, indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return True


def die_with_parent(parent_pid: int | None) -> None:
    """End this worker - and so its kernel, whose parent poller watches this process - when
    the driver dies, even by SIGKILL. On Linux the kernel delivers SIGKILL to us the moment
    the driver exits (PR_SET_PDEATHSIG); elsewhere a thread polls the parent's PID."""
    if parent_pid is None:
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the driver died before the line above took effect
        os._exit(EXIT_ORPHANED)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def execute(spec: dict[str, Any], km: Any = None) -> dict[str, str | None]:
    """Run the spec's notebook; `km` is a kernel already started for it (a warm standby,
    `runner.standby`), else papermill starts one."""
    spotter = _TimeoutSpotter()
    # A kernel papermill starts is one of ours too (`StepKernelManager`), and nbclient shuts
    # it down; a warm one is shut down by the standby that started it.
    engine_kwargs = {"kernel_manager_class": StepKernelManager} if km is None else {"km": km}
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
            **engine_kwargs,
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
    except Exception as exc:  # every other failure is classified, not lost
        result = {"status": "failed", "error_type": type(exc).__name__,
                  "error_summary": one_line(str(exc) or repr(exc))}
        logging.getLogger(__name__).error("papermill failed", exc_info=True)
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
    if argv and argv[0] == "--standby":
        from runner.standby import standby_main

        return standby_main(argv[1:])
    spec = json.loads(Path(argv[0]).read_text())
    die_with_parent(spec.get("parent_pid"))
    return run_spec(spec)


def setup_worker_process() -> tuple[str, ...]:
    """SIGTERM as an exception, redacting logs; returns the secrets to redact."""
    signal.signal(signal.SIGTERM, _terminate)
    secrets = load_settings().secret_values()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter(secrets))
    return secrets


def run_spec(spec: dict[str, Any], km: Any = None,
             secrets: tuple[str, ...] | None = None) -> int:
    """Execute the spec, then write its classified result (secrets redacted)."""
    if secrets is None:
        secrets = setup_worker_process()
    result = execute(spec, km)
    if result.get("error_summary"):
        result["error_summary"] = redact(result["error_summary"], secrets)
    scrub_notebook(Path(spec["output"]), secrets)
    # Whole or absent: the parent reads it as soon as it exists, while this process is still
    # shutting its kernel down.
    result_path = Path(spec["result_path"])
    partial = result_path.with_name(result_path.name + ".part")
    partial.write_text(json.dumps(result))
    partial.replace(result_path)
    return 0


def run_in_worker(spec_path: Path, result_path: Path, log_path: Path,
                  wall_clock_seconds: float) -> dict:
    """Run a worker process on `spec_path` (the parent side: the driver, the renderer);
    kill it and its process group past the wall-clock limit. Returns its classification
    once the worker has exited."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "runner.worker", str(spec_path)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        outcome = wait_for_result(proc, result_path, log_path, wall_clock_seconds)
        reap(proc)
        return outcome


def wait_for_result(proc: subprocess.Popen, result_path: Path, log_path: Path,
                    wall_clock_seconds: float,
                    while_waiting: Callable[[], None] | None = None) -> dict:
    """Wait for a worker that is executing its spec: its classification, or a timeout or
    crash of the worker itself.

    Returns as soon as the result exists. The worker then still shuts its kernel down
    (about 0.5 s that no step needs to wait for: the notebook has closed its database
    connection); whoever started it reaps it later (`reap`)."""
    deadline = time.monotonic() + wall_clock_seconds
    while not result_path.exists():
        if proc.poll() is not None:
            break
        if time.monotonic() > deadline:
            stop_process_group(proc)
            return {"status": "timeout", "error_type": "WallClockTimeout",
                    "error_summary": f"step exceeded the hard wall-clock limit of "
                                     f"{wall_clock_seconds:g}s and was killed"}
        if while_waiting is not None:
            while_waiting()
        time.sleep(RESULT_POLL_SECONDS)
    if result_path.exists():
        outcome = json.loads(result_path.read_text())
        result_path.unlink()  # the registry row carries it from here on
        return outcome
    return {"status": "failed", "error_type": "WorkerCrashed",
            "error_summary": f"step worker exited with code {proc.returncode} without a result; "
                             f"see {log_path.name}"}


def reap(proc: subprocess.Popen) -> None:
    """Wait for a worker that has delivered its result (or been told to stop) to exit;
    stop its process group if it does not in time."""
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    sys.exit(main())
