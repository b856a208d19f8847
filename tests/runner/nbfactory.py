"""Small notebooks for driver tests, written under the five step names the driver expects."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from runner.steps import STEPS

PARAMETERS = '''slate_date: str = "2025-12-01"
as_of: str = "2025-12-01T15:00:00"
run_id: str = "interactive"
db_path: str = "data/ops.duckdb"
ops_home: str = "."
offline_demo: bool = True'''

BODIES = {
    "pass": ["print('ok', slate_date, run_id)"],
    "raise": ["x = 1", "raise ValueError('boom: bad thing happened')"],
    "sleep": ["import time\ntime.sleep(60)"],
    "slow_cells": ["import time\ntime.sleep(1.5)"] * 6,
    "kill": ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"],
    "partial": ["from helpers.core.step_status import report_step_status\n"
                "report_step_status('partial', 'UNABATED failed: HTTP 503; others landed')"],
    "hold": ["import time\ntime.sleep(8)"],
    # `import this` prints the Zen of Python the first time a process imports it: silent in
    # a kernel whose warm-up already ran the notebook's imports.
    "zen": ["import this"],
    # A step writing for a while: its kernel has the database open read-write for 8 s.
    "hold_db": ["import time\nfrom helpers.core import db\ncon = db.connect(db_path)\n"
                "print('step holds the database', flush=True)\ntime.sleep(8)\ncon.close()"],
    # A secret that reaches an error message, as requests' header validation used to do.
    "leak_secret": ["import logging, os\nsecret = os.environ['PLAYNOW_COOKIE']\nprint(secret)\n"
                    "logging.getLogger('x').warning('cookie %s', secret)",
                    "raise RuntimeError(f'bad header value {secret!r}')"],
    # Starts a detached process that keeps the database open for 8 s, past the end of the
    # step: like an analyst opening the file mid-run.
    "grab_db": ["import subprocess, sys, time\n"
                "code = ('import time; from helpers.core import db; c = db.connect(%r); '\n"
                "        'print(\"held\", flush=True); time.sleep(8)' % db_path)\n"
                "grab = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE,\n"
                "                        start_new_session=True, text=True)\n"
                "assert grab.stdout.readline().strip() == 'held'"],
}


def write_notebook(path: Path, kind: str) -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "nhl-props-ops", "display_name": "Python",
                                 "language": "python"}
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(new_code_cell(src) for src in BODIES[kind])]
    nbformat.write(nb, str(path))


REPORT_PARAMETERS = '''slate_date: str = "2025-12-01"
as_of: str = "2025-12-01T15:00:00"
db_path: str = ""
offline_demo: bool = True'''


def write_report_notebook(path: Path) -> None:
    """A report notebook the renderer can export: one Markdown output per report."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "nhl-props-ops", "display_name": "Python",
                                 "language": "python"}
    params = new_code_cell(REPORT_PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    show = "from IPython.display import Markdown, display\n"
    daily = new_code_cell(show + "display(Markdown(f'# Daily report {slate_date}'))")
    daily.metadata["tags"] = ["daily"]
    rolling = new_code_cell(show + "display(Markdown(f'# Rolling report to {slate_date}'))")
    rolling.metadata["tags"] = ["rolling"]
    nb.cells = [params, daily, rolling]
    nbformat.write(nb, str(path))


def write_step_notebooks(folder: Path, kinds: dict[str, str], default: str = "pass") -> Path:
    """One notebook per step (`kinds` maps step name -> body kind), and a report notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    for step in STEPS:
        write_notebook(folder / step.notebook, kinds.get(step.name, default))
    write_report_notebook(folder / "report.ipynb")
    return folder
