"""Warm standby: a step's worker started while the step before it runs.

A step's fixed cost is a Python process importing papermill, a kernel starting, and the
kernel importing pandas, DuckDB and the step's helpers: 2-3 s, about half of a short step.
None of it depends on the step before, so the driver starts the next step's worker early: it
launches the kernel in the run's home and runs the notebook's own import statements in it
(silently: no output, no execution count), then waits for one line on stdin.

- `go SPEC_PATH`: the driver has written the step's spec (at that moment, as for a cold
  worker) and its clock and wall-clock limit start now. The worker executes the spec on the
  warm kernel.
- anything else, or stdin closed (the run stopped, fail-fast): it shuts the kernel down and
  exits without a result.

A warm-up that fails is logged and forgotten: papermill then starts its own kernel, and the
same fault surfaces in the notebook where a reader will see it. The worker dies with the
driver as a cold one does (`worker.die_with_parent`), and its kernel with it.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import nbformat

from helpers.core.steps import STEPS
from runner.worker import (
    die_with_parent,
    reap,
    run_spec,
    setup_worker_process,
    stop_process_group,
    wait_for_result,
)

log = logging.getLogger(__name__)
GO = "go"
WARM_UP_TIMEOUT_SECONDS = 120
CANCEL_WAIT_SECONDS = 10
WARMING_AT_ONCE = 2  # workers warming up together (`Warmer`)


def notebook_imports(notebook: Path) -> str:
    """The top-level import statements of a notebook's code cells, as one block; for a step's
    notebook, also the module of the step's function (`ctx.run` imports it when the step
    starts)."""
    nb = nbformat.read(str(notebook), as_version=4)
    statements = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: the notebook will say so itself
            continue
        statements += [ast.unparse(node) for node in tree.body
                       if isinstance(node, ast.Import | ast.ImportFrom)]
    for step in STEPS:
        if step.notebook == notebook.name:
            statements.append(f"import {step.function.split(':')[0]}")
    return "\n".join(dict.fromkeys(statements))


def start_warm_kernel(kernel_name: str, notebook: Path, cwd: str) -> Any:
    """A started kernel (an async manager, as nbclient uses) that has run the notebook's
    imports. A kernel that fails to get there is shut down before the error is raised."""
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_core.utils import run_sync

    from runner.kernel import StepKernelManager

    km = StepKernelManager(kernel_name=kernel_name)
    try:
        run_sync(km.start_kernel)(cwd=cwd)
        client = BlockingKernelClient()
        client.load_connection_info(km.get_connection_info())
        client.start_channels()
        try:
            client.wait_for_ready(timeout=WARM_UP_TIMEOUT_SECONDS)
            reply = client.execute(notebook_imports(notebook), silent=True,
                                   store_history=False, reply=True,
                                   timeout=WARM_UP_TIMEOUT_SECONDS)
        finally:
            client.stop_channels()
    except BaseException:
        shutdown_kernel(km)
        raise
    if reply["content"].get("status") != "ok":
        log.warning("warm-up imports of %s: %s %s", notebook.name,
                    reply["content"].get("ename"), reply["content"].get("evalue"))
    return km


def shutdown_kernel(km: Any) -> None:
    if km is None:
        return
    from jupyter_core.utils import run_sync

    try:
        run_sync(km.shutdown_kernel)(now=False)
    except Exception as exc:  # noqa: BLE001
        # The kernel may be dead already; the worker is ending either way. One line, not a
        # traceback: the step's log is read for the step.
        log.warning("kernel shutdown failed: %s: %s", type(exc).__name__, exc)


def standby_main(argv: list[str]) -> int:
    """The worker's side: `--standby KERNEL NOTEBOOK CWD READY_FD`, then `go SPEC_PATH` on
    stdin. READY_FD is closed once the warm-up is over, done or failed."""
    kernel_name, notebook, cwd, ready_fd = argv
    die_with_parent(os.getppid())
    secrets = setup_worker_process()
    km = None
    try:
        try:
            km = start_warm_kernel(kernel_name, Path(notebook), cwd)
        except Exception as exc:  # noqa: BLE001
            # Any failure: the step starts its own kernel. One line, not a traceback: that
            # would only show the client's wait, and a kernel that died printed why itself,
            # just above in this log.
            log.warning("warm standby failed (%s: %s); the step will start its own kernel",
                        type(exc).__name__, exc)
        os.close(int(ready_fd))
        command, _, spec_path = sys.stdin.readline().strip().partition(" ")
        if command != GO:
            return 0
        return run_spec(json.loads(Path(spec_path).read_text()), km, secrets)
    finally:
        shutdown_kernel(km)


class Standby:
    """The driver's side: a worker started ahead of its step."""

    def __init__(self, kernel_name: str, notebook: Path, cwd: Path, log_path: Path) -> None:
        self.kernel_name, self.log_path = kernel_name, log_path
        self.started = False
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = log_path.open("wb")
        # The worker closes its end when its warm-up is over; EOF here says so (also when
        # the worker died).
        self._ready_read, ready_write = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "runner.worker", "--standby", kernel_name,
                 str(notebook), str(cwd), str(ready_write)],
                stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
                start_new_session=True, pass_fds=(ready_write,))
        finally:
            os.close(ready_write)

    def wait_warm(self, timeout: float) -> bool:
        """Wait until the worker's warm-up is over (or it died); False after `timeout`."""
        if self._ready_read < 0:
            return True
        ready, _, _ = select.select([self._ready_read], [], [], timeout)
        if not ready:
            return False
        os.close(self._ready_read)
        self._ready_read = -1
        return True

    def go(self, spec_path: Path, result_path: Path, wall_clock_seconds: float,
           while_waiting: Callable[[], None] | None = None) -> dict:
        """Start the step (its spec is written) and wait for its classification; the worker
        may still be shutting its kernel down when this returns (`reap`). `while_waiting` is
        called every few milliseconds meanwhile."""
        self.started = True
        assert self.proc.stdin is not None
        # a worker that died on warm-up is classified as crashed below
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(f"{GO} {spec_path}\n".encode())
            self.proc.stdin.close()
        try:
            return wait_for_result(self.proc, result_path, self.log_path, wall_clock_seconds,
                                   while_waiting)
        finally:
            self._log.close()

    def reap(self) -> None:
        """At the run's end (no `Warmer` watching it any more): wait for a worker that ran
        its step to finish shutting its kernel down."""
        if self.started:
            reap(self.proc)
        if self._ready_read >= 0:
            os.close(self._ready_read)
            self._ready_read = -1

    def cancel(self) -> None:
        """The step will not run: let the worker shut its kernel down, or stop it."""
        if self.started:
            return
        self.started = True  # once
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=CANCEL_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            stop_process_group(self.proc)
        self._log.close()
        if self.log_path.stat().st_size == 0:  # nothing to read for a step that never ran
            self.log_path.unlink()


class Warmer:
    """Starts a run's workers in order, each once the one before it is warm.

    On two cores one core runs the step and the other warms the next workers. Warming them
    all at once would slow the first step's own (cold) start, so the others wait for it;
    one at a time after that falls behind, as most steps take less time than a kernel's
    start. Every worker is
    started from the driver's main thread, in `tick` (called while a step runs) or `take`:
    PR_SET_PDEATHSIG ends a worker when the *thread* that started it ends."""

    def __init__(self, jobs: list[str], start: Callable[[str], Standby]) -> None:
        self._jobs, self._start = jobs, start
        self._started: dict[str, Standby] = {}
        self._taken: set[str] = set()
        self.tick()

    def _start_next(self) -> None:
        job = self._jobs[len(self._started)]
        self._started[job] = self._start(job)

    def tick(self) -> None:
        """Start the next job's worker once the first job's is warm, while fewer than
        WARMING_AT_ONCE are warming."""
        if len(self._started) == len(self._jobs):
            return
        warming = [s for s in self._started.values() if not s.wait_warm(0)]
        first = self._started.get(self._jobs[0])
        if first in warming or len(warming) >= WARMING_AT_ONCE:
            return
        self._start_next()

    def take(self, job: str) -> Standby:
        """The job's worker, started now if its turn came before the ones before it were
        warm."""
        while job not in self._started:
            self._start_next()
        self._taken.add(job)
        return self._started[job]

    def close(self) -> list[Standby]:
        """The workers started for jobs nobody took (fail-fast, a stop)."""
        return [s for job, s in self._started.items() if job not in self._taken]
