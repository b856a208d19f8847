"""Which run's rows count: one rule for every reader of a table that runs append to.

A table like `fact_ev_candidates` or the evidence tables keeps every run's rows for the
audit; readers take, per slate, the rows of one run:

- **committed**: a run whose registry row for the writing step ended failed, timed out or
  interrupted wrote rows that nothing may use (a step is all or nothing). Rows of a run the
  registry does not know (a notebook run by hand, the offline demo) count; so do those of a
  step still running (it is the step reading its own rows).
- **newest**: the latest as-of, ties to the later run id. Run ids begin with their start time,
  so a rerun with the original as-of supersedes the run it repeats.
"""

from __future__ import annotations

FAILED_STEP_STATUSES = ("failed", "timeout", "interrupted")
NEWEST_FIRST = "as_of_ts_utc DESC, run_id DESC"


def committed_sql(run_id_column: str, step: str) -> str:
    """SQL condition on rows whose run is `run_id_column`: their writing `step` did not fail."""
    return (f"NOT EXISTS (SELECT 1 FROM fact_run_registry g WHERE g.run_id = {run_id_column} "
            f"AND g.step = '{step}' AND g.status IN {FAILED_STEP_STATUSES})")
