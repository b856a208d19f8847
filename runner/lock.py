"""One daily run per database at a time: an exclusive file lock next to the DB file.

The holder writes who it is into a sidecar file so that a second run can name it. The lock
is released by the OS when the holder exits, so a crashed run never leaves it stuck.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from filelock import FileLock, Timeout

from helpers.core.errors import RunLockedError


class RunLock:
    def __init__(self, db_path: Path, wait_seconds: float):
        self.lock_path = db_path.with_name(db_path.name + ".runlock")
        self.holder_path = db_path.with_name(db_path.name + ".runlock.holder")
        self.wait_seconds = wait_seconds
        self._lock = FileLock(str(self.lock_path))

    def acquire(self, run_id: str) -> None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=self.wait_seconds, poll_interval=0.1)
        except Timeout:
            raise RunLockedError(
                f"another daily run holds {self.lock_path} ({self._describe_holder()}); "
                f"waited {self.wait_seconds:g} s - try again when it finishes"
            ) from None
        holder = {"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(),
                  "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self.holder_path.write_text(json.dumps(holder))

    def release(self) -> None:
        self.holder_path.unlink(missing_ok=True)
        self._lock.release()

    def _describe_holder(self) -> str:
        try:
            holder = json.loads(self.holder_path.read_text())
        except (OSError, ValueError):
            return "holder unknown"
        return (f"run {holder.get('run_id')} pid {holder.get('pid')} on {holder.get('host')} "
                f"since {holder.get('since')}")

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock.is_locked:
            self.release()
