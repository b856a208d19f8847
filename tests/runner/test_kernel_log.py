"""What a step's kernel lets into the step's log: ipykernel's shutdown race is dropped,
every other tornado error is kept."""

from __future__ import annotations

import logging

import zmq

from runner.kernel import _drop_shutdown_race


def _record(error: Exception | None) -> logging.LogRecord:
    if error is None:
        return logging.LogRecord("tornado.general", logging.ERROR, __file__, 1, "an error",
                                 (), None)
    exc_info = (type(error), error, None)
    return logging.LogRecord("tornado.general", logging.ERROR, __file__, 1,
                             "Uncaught exception in ZMQStream callback", (), exc_info)


def test_only_the_closed_socket_of_a_kernel_shutting_down_is_dropped() -> None:
    assert _drop_shutdown_race(_record(zmq.error.ZMQError(zmq.ENOTSOCK))) is False
    assert _drop_shutdown_race(_record(zmq.error.ZMQError(zmq.EAGAIN))) is True
    assert _drop_shutdown_race(_record(RuntimeError("a real failure"))) is True
    assert _drop_shutdown_race(_record(None)) is True
