"""The daily and rolling reports: `notebooks/report.ipynb` executed read-only by papermill,
then exported twice by nbconvert's MarkdownExporter.

- `outputs/monitoring/daily_report_<date>.md`: the cells tagged `daily`;
- `outputs/monitoring/rolling_report.md`: the cells tagged `rolling`;
each with its charts in `<report>_files/` under the names the notebook gave them. Code is
hidden; untagged cells (setup) and stream output (a warning a library printed) are left out,
the latter counted in the log. The executed notebook is kept as
`outputs/monitoring/executed/report_<date>.ipynb` (with the worker's log beside it) for
whoever wonders where a figure came from. The notebook runs in a worker process like a
step: a cell timeout and a hard wall-clock limit.

Nothing is replaced until both reports are rendered, and then each file is replaced
atomically, the charts before the Markdown that links them: a failed or killed render
leaves the previous reports whole.
"""

from __future__ import annotations

import copy
import importlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import nbformat

from helpers.core.errors import ReportRenderError
from helpers.core.files import atomic_write
from helpers.core.settings import Settings
from runner.standby import Standby
from runner.worker import run_in_worker

log = logging.getLogger(__name__)

REPORT_NOTEBOOK = "report.ipynb"
REPORT_TAGS = ("daily", "rolling")


@dataclass(frozen=True)
class Reports:
    daily: Path
    rolling: Path
    notebook: Path  # the executed report notebook

    def lines(self) -> list[str]:
        return [f"daily report: {self.daily}", f"rolling report: {self.rolling}"]


def report_name(tag: str, slate_date: date) -> str:
    return f"daily_report_{slate_date}" if tag == "daily" else "rolling_report"


class KeepTagged:
    """Keep only the cells tagged `tag`, and drop their stream outputs (stdout/stderr
    belong in the executed notebook and the log, not in a report)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.streams_dropped = 0

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict
                   ) -> tuple[nbformat.NotebookNode, dict]:
        kept = []
        for cell in nb.cells:
            if self.tag not in cell.get("metadata", {}).get("tags", []):
                continue
            if cell.cell_type == "code":
                outputs = [o for o in cell.outputs if o.get("output_type") != "stream"]
                self.streams_dropped += len(cell.outputs) - len(outputs)
                cell.outputs = outputs
            kept.append(cell)
        nb.cells = kept
        return nb, resources


def export_markdown(nb: nbformat.NotebookNode, tag: str, name: str
                    ) -> tuple[str, dict[str, bytes]]:
    """The report of the cells tagged `tag`: its Markdown and its files, keyed by their
    path relative to the report (`<name>_files/<chart>.png`)."""
    from nbconvert import MarkdownExporter  # ~0.5 s: imported ahead, `import_in_background`

    # Filter first: the exporter's own preprocessors (the image extraction among them) run
    # before any registered one, and would extract the other report's charts too.
    keep = KeepTagged(tag)
    kept, _ = keep.preprocess(copy.deepcopy(nb), {})
    exporter = MarkdownExporter(exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
    body, resources = exporter.from_notebook_node(
        kept, resources={"output_files_dir": f"{name}_files"})
    if keep.streams_dropped:
        log.warning("%s: %d stream outputs left out (see the executed notebook)", name,
                    keep.streams_dropped)
    return body, dict(resources.get("outputs", {}))


def executed_path(settings: Settings, slate_date: date) -> Path:
    return settings.paths.monitoring_dir / "executed" / f"report_{slate_date}.ipynb"


def import_in_background() -> None:
    """Import nbconvert on a thread while the run's last step works: the driver needs it
    only to export the reports, and would otherwise wait ~0.5 s for it then."""
    threading.Thread(target=importlib.import_module, args=("nbconvert",),
                     name="import-nbconvert", daemon=True).start()


def report_standby(settings: Settings, slate_date: date, kernel: str) -> Standby:
    """The report's worker, started ahead (`runner.standby`); it logs where the executed
    report notebook goes. The driver's own export code is imported meanwhile."""
    import_in_background()
    return Standby(kernel, settings.paths.notebooks_dir / REPORT_NOTEBOOK,
                   settings.paths.ops_home,
                   executed_path(settings, slate_date).with_suffix(".log"))


def execute_report_notebook(settings: Settings, slate_date: date, output: Path, kernel: str,
                            cell_timeout_seconds: float, wall_clock_seconds: float,
                            standby: Standby | None = None) -> None:
    """Run the report notebook in a worker process, as the driver runs a step: a cell
    timeout, a hard wall-clock limit, secrets scrubbed from the saved notebook. Its log is
    `<output>.log`."""
    spec = {
        "input": str(settings.paths.notebooks_dir / REPORT_NOTEBOOK),
        "output": str(output),
        "parameters": {"slate_date": slate_date.isoformat(),
                       "db_path": str(settings.paths.db_path), "offline_demo": False},
        "kernel_name": kernel,
        "execution_timeout": cell_timeout_seconds,
        "cwd": str(settings.paths.ops_home),
        "result_path": str(output.with_suffix(".result.json")),
        "parent_pid": os.getpid(),
    }
    spec_path = output.with_suffix(".spec.json")
    spec_path.write_text(json.dumps(spec, indent=1))
    if standby is not None:
        outcome = standby.go(spec_path, Path(spec["result_path"]), wall_clock_seconds)
        log_path = standby.log_path
    else:
        log_path = output.with_suffix(".log")
        outcome = run_in_worker(spec_path, Path(spec["result_path"]), log_path,
                                wall_clock_seconds)
    if outcome["status"] != "success":
        raise ReportRenderError(f"the report notebook {outcome['status']}: "
                                f"{outcome.get('error_type')}: {outcome.get('error_summary')}"
                                f" (log {log_path})")


def render_reports(settings: Settings, slate_date: date, kernel: str,
                   cell_timeout_seconds: float, wall_clock_seconds: float,
                   standby: Standby | None = None) -> Reports:
    """Execute the report notebook for `slate_date` (on `standby` when the run started one)
    and write both reports."""
    monitoring = settings.paths.monitoring_dir
    executed = executed_path(settings, slate_date)
    executed.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=executed.parent, prefix=".render-") as scratch:
        scratch_nb = Path(scratch) / executed.name
        execute_report_notebook(settings, slate_date, scratch_nb, kernel, cell_timeout_seconds,
                                wall_clock_seconds, standby)
        nb = nbformat.read(str(scratch_nb), as_version=4)
        rendered = {tag: export_markdown(nb, tag, report_name(tag, slate_date))
                    for tag in REPORT_TAGS}
        for tag, (body, files) in rendered.items():
            for relative, data in sorted(files.items()):
                atomic_write(monitoring / relative, data)
            atomic_write(monitoring / f"{report_name(tag, slate_date)}.md",
                         body.encode("utf-8"))
        scratch_nb.replace(executed)
        if standby is None:  # a standby logged beside the executed notebook already
            scratch_nb.with_suffix(".log").replace(executed.with_suffix(".log"))
    return Reports(daily=monitoring / f"{report_name('daily', slate_date)}.md",
                   rolling=monitoring / f"{report_name('rolling', slate_date)}.md",
                   notebook=executed)
