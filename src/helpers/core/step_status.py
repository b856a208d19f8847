"""How a notebook tells the runner that its step was only partly successful.

A notebook that finishes without an exception succeeded, unless it displayed a step status
of 'partial' (e.g. one vendor failed while the others landed). The status travels as a
display output with its own MIME type, so it is also visible in the executed notebook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUS_MIME = "application/vnd.nhl-props-ops.step-status+json"
NOTEBOOK_STATUSES = ("success", "partial")


def report_step_status(status: str, summary: str = "") -> None:
    """Display the step's status in the running notebook (call from a notebook cell)."""
    if status not in NOTEBOOK_STATUSES:
        raise ValueError(f"step status must be one of {NOTEBOOK_STATUSES}, not {status!r}")
    from IPython.display import display  # only inside a kernel

    text = f"STEP STATUS: {status}" + (f" - {summary}" if summary else "")
    display({STATUS_MIME: {"status": status, "summary": summary}, "text/plain": text},
            raw=True)


def read_step_status(notebook: Mapping[str, Any]) -> tuple[str, str] | None:
    """The last status a notebook displayed, as (status, summary); None when it showed none."""
    found = None
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if STATUS_MIME in data:
                payload = data[STATUS_MIME]
                found = (payload.get("status", "success"), payload.get("summary", ""))
    return found
