"""How the driver gets its workers ready and lets them go: the warm-up order (`Warmer`), a
result read before the worker has exited (`wait_for_result`, `reap`), and the kernel client
that is ready without a fixed wait (`StepKernelClient`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync

from runner.kernel import DEFAULT_KERNEL, StepKernelClient, StepKernelManager, ensure_kernel
from runner.standby import WARMING_AT_ONCE, Warmer
from runner.worker import reap, wait_for_result


class FakeStandby:
    def __init__(self, job: str) -> None:
        self.job = job
        self.warm = False

    def wait_warm(self, timeout: float) -> bool:
        return self.warm


class Starts:
    def __init__(self) -> None:
        self.order: list[str] = []
        self.made: dict[str, FakeStandby] = {}

    def __call__(self, job: str) -> FakeStandby:
        self.order.append(job)
        self.made[job] = FakeStandby(job)
        return self.made[job]


JOBS = ["odds_ingestion", "production", "ev", "outcomes", "diagnostics", "report"]


def test_the_first_worker_warms_alone_then_at_most_two_warm_at_once() -> None:
    starts = Starts()
    warmer = Warmer(JOBS, starts)  # type: ignore[arg-type]
    assert starts.order == ["odds_ingestion"]
    warmer.tick()
    assert starts.order == ["odds_ingestion"]  # nothing competes with the first start

    starts.made["odds_ingestion"].warm = True
    warmer.tick()
    warmer.tick()
    assert starts.order == JOBS[:1 + WARMING_AT_ONCE]
    warmer.tick()
    assert len(starts.order) == 1 + WARMING_AT_ONCE  # two warming: wait

    starts.made["production"].warm = True
    warmer.tick()
    assert starts.order == JOBS[:2 + WARMING_AT_ONCE]
    for job in JOBS:
        if job in starts.made:
            starts.made[job].warm = True
        warmer.tick()
    assert starts.order == JOBS  # each once, in the driver's order


def test_a_job_whose_turn_comes_early_starts_now_in_order_and_unused_ones_are_returned() -> None:
    starts = Starts()
    warmer = Warmer(JOBS, starts)  # type: ignore[arg-type]
    assert warmer.take("odds_ingestion").job == "odds_ingestion"
    assert warmer.take("ev").job == "ev"  # production was not started yet: it is now too
    assert starts.order == ["odds_ingestion", "production", "ev"]
    assert [s.job for s in warmer.close()] == ["production"]  # started, never taken


def _fake_worker(tmp_path: Path, result_path: Path, linger_seconds: float) -> subprocess.Popen:
    """A worker that writes its result, then goes on (as a kernel shutdown does)."""
    script = (f"import json, os, time\n"
              f"p = {str(result_path)!r}\n"
              f"open(p + '.part', 'w').write(json.dumps({{'status': 'success'}}))\n"
              f"os.replace(p + '.part', p)\n"
              f"time.sleep({linger_seconds})\n")
    return subprocess.Popen([sys.executable, "-c", script], start_new_session=True)


def test_the_result_is_read_while_the_worker_still_shuts_down_and_reap_ends_it(
        tmp_path: Path) -> None:
    result_path = tmp_path / "step.result.json"
    proc = _fake_worker(tmp_path, result_path, linger_seconds=1.5)
    outcome = wait_for_result(proc, result_path, tmp_path / "step.log", wall_clock_seconds=30)
    assert outcome == {"status": "success"}
    assert proc.poll() is None  # the driver went on without waiting for the exit
    assert not result_path.exists()  # the registry row carries it from here on
    reap(proc)
    assert proc.returncode == 0


def test_a_worker_that_exits_without_a_result_is_a_crash(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(5)"])
    outcome = wait_for_result(proc, tmp_path / "r.json", tmp_path / "w.log", 30)
    assert outcome["status"] == "failed"
    assert outcome["error_type"] == "WorkerCrashed"
    assert "code 5" in outcome["error_summary"]


def test_while_waiting_is_called_until_the_result_arrives(tmp_path: Path) -> None:
    result_path = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-c",
                             f"import time, os; time.sleep(0.5); "
                             f"open({str(result_path)!r} + '.p', 'w').write('{{}}'); "
                             f"os.replace({str(result_path)!r} + '.p', {str(result_path)!r})"])
    calls: list[float] = []
    assert wait_for_result(proc, result_path, tmp_path / "w.log", 30,
                           lambda: calls.append(time.monotonic())) == {}
    reap(proc)
    assert len(calls) >= 5  # polled every ~10 ms for half a second


@pytest.mark.slow
def test_a_step_kernel_hands_out_clients_that_are_ready_and_run_code() -> None:
    km = StepKernelManager(kernel_name=ensure_kernel(DEFAULT_KERNEL))
    run_sync(km.start_kernel)()
    printed: list[str] = []

    def collect(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    try:
        kc = km.client()
        assert isinstance(kc, StepKernelClient)
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=60)
        reply = run_sync(kc.execute_interactive)("print(6 * 7)", timeout=60,
                                                  output_hook=collect)
        assert reply["content"]["status"] == "ok"
        assert printed == ["42\n"]
    finally:
        run_sync(km.shutdown_kernel)()
    assert not km.has_kernel
