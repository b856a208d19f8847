"""The Jupyter kernel the notebooks run on: this interpreter, registered under a fixed name,
started by `StepKernelManager`, logging the step's own messages to the step's log.

Naming the kernel explicitly (instead of 'python3') keeps papermill from picking up some
other Python that a user's Jupyter installation calls python3.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager

from helpers.core.settings import load_settings, redact

DEFAULT_KERNEL = "nhl-props-ops"
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
# Run by the kernel at start-up, before any cell and without an execution count.
# How long a client waits for the first IOPub message after a kernel_info reply before it asks
# again (jupyter_client waits 0.2 s): the kernel's status message proves the channel is
# connected, and a fresh subscription often misses the first one.
IOPUB_CHECK_SECONDS = 0.02
_LOG_SETUP = ("from runner.kernel import log_to_worker as _ops_log_to_worker; "
              "_ops_log_to_worker(); del _ops_log_to_worker")


def ensure_kernel(name: str) -> str:
    """Register `name` for this interpreter in sys.prefix unless it already points here."""
    if name != DEFAULT_KERNEL:
        return name  # a user-chosen kernel is used as it is
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
        if spec.argv and spec.argv[0] == sys.executable:
            return name
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=name, display_name="Python (nhl-props-ops)", prefix=sys.prefix)
    return name


class StepKernelClient(AsyncKernelClient):
    """The client nbclient gets from `StepKernelManager`: ready without a fixed wait.

    jupyter_client's `wait_for_ready` ends by reading IOPub until it has been silent for
    0.2 s, to drop messages sent before the client connected: 0.2 s of every step, spent
    waiting for nothing. nbclient matches every IOPub message to its cell's request by
    msg_id, so a stray one is ignored anyway; this client drains what has arrived and goes
    on. The rest is jupyter_client's: kernel_info until a reply, then one IOPub message to
    prove that channel is connected."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                msg = None
            if msg is not None and msg["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=IOPUB_CHECK_SECONDS)
                except Empty:
                    pass  # IOPub not connected yet: ask again
                else:
                    self._handle_kernel_info_reply(msg)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while True:  # what is already queued, without waiting for more
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break


class StepKernelManager(AsyncKernelManager):
    """How a step's worker starts its kernel (warm standby and papermill's own start alike).

    - Unix sockets in a folder of its own (mode 700) instead of TCP on loopback. Over TCP the
      manager picks five free ports, releases them and the kernel binds them a second later;
      anything else on the machine that takes one meanwhile (another worker's kernel, an
      outgoing connection) kills the kernel at start-up ("Kernel died before replying to
      kernel_info"), and ipykernel warns on every start that TCP is unencrypted. A socket
      path in a private folder can be neither taken nor read by anyone else.
    - It stops the channels of every client it handed out when the kernel shuts down. nbclient
      stops its own client only when it created the manager; on a warm kernel it leaves the
      client polling a kernel that is about to go, and its garbage collection then warns
      "Could not destroy zmq context".
    - The kernel logs the `helpers` loggers to the worker's log (`log_to_worker`) and keeps
      IPython's history in memory, as papermill's own start does: no shared history file.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_factory = StepKernelClient
        self._clients: list[Any] = []
        self._folder: str | None = None
        if os.name == "posix":
            self._folder = tempfile.mkdtemp(prefix="nhl-kernel-")
            self.transport = "ipc"
            self.ip = str(Path(self._folder) / "ipc")
            self.connection_file = str(Path(self._folder) / "kernel.json")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        extra = [arg for arg in (extra_arguments or [])
                 if not arg.startswith("--HistoryManager.hist_file")]
        return super().format_kernel_cmd(
            [*extra, "--HistoryManager.hist_file=:memory:",
             f"--IPKernelApp.exec_lines={_LOG_SETUP}"])

    def client(self, **kwargs: Any) -> Any:
        kc = super().client(**kwargs)
        self._clients.append(kc)
        return kc

    def stop_clients(self) -> None:
        for kc in self._clients:
            if kc.channels_running:
                kc.stop_channels()
        self._clients.clear()

    # AsyncKernelManager binds its public methods to KernelManager's private coroutines,
    # so both the names nbclient calls and the one shutdown calls are overridden.
    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        if not restart:
            self.stop_clients()
        try:
            await AsyncKernelManager.shutdown_kernel(self, now=now, restart=restart)
        finally:
            if not restart:  # also when the kernel never started
                self._remove_folder()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await AsyncKernelManager.cleanup_resources(self, restart=restart)
        if not restart:
            self._remove_folder()

    cleanup_resources = _async_cleanup_resources

    def _remove_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class RedactingFilter(logging.Filter):
    """Redacts secrets from every record of a handler whose lines are kept (a step's log)."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = redact(record.getMessage(), self.secrets)
            record.args = None
            if record.exc_info:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info),
                                         self.secrets)
                record.exc_info = None
        return True


def _worker_stream() -> io.TextIOWrapper:
    """The kernel process's own stderr, which is the worker's log. ipykernel sends fd 2 to
    the notebook and keeps a copy of the original, which `sys.stderr.fileno()` returns;
    where it does not redirect (under pytest), fd 2 is still the original."""
    try:
        fd = sys.stderr.fileno()
    except (OSError, ValueError):
        fd = 2
    return io.TextIOWrapper(io.FileIO(os.dup(fd), "w"), encoding="utf-8", errors="replace",
                            line_buffering=True)


def log_to_worker() -> None:
    """In a step's kernel: the pipeline's own log records (INFO and up: progress, a vendor
    that failed, a retry) go to the step's log, secrets redacted, and not into the notebook,
    whose cells show the step's results."""
    handler = logging.StreamHandler(_worker_stream())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter(load_settings().secret_values()))
    logger = logging.getLogger("helpers")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logging.getLogger("tornado.general").addFilter(_drop_shutdown_race)


def _drop_shutdown_race(record: logging.LogRecord) -> bool:
    """False for ipykernel's shutdown race: a control message handled while the kernel is
    closing flushes stdout through an IO thread whose socket is already gone (ZMQError
    ENOTSOCK, "Uncaught exception in ZMQStream callback"). It comes after the step's last
    cell, changes nothing, and would put a traceback in a successful step's log."""
    error = record.exc_info[1] if record.exc_info else None
    return not (type(error).__name__ == "ZMQError"
                and getattr(error, "errno", None) == errno.ENOTSOCK)
