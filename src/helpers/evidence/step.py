"""Step 5, diagnostics: the IO edge. Writes the run's evidence and its anomaly checks.

1. The evidence tables of the run (`tables.collect`): odds coverage, mapping quality and the
   EV summary of the run's slate; forecast accuracy and reliability bins of every slate of
   the grading window that has outcomes (read back from `fact_prop_outcomes`, so it does
   not matter whether step 4 ran in this run or an earlier one).
   With them, the market comparison: each model version against the market and the
   challengers against the production model, per market, on the props every source priced
   over the `TRAILING_SLATES` (14) slates before the run's slate (those graded), with a
   paired bootstrap interval over games (`grading.compare`).
2. The anomaly checks of the run against the trailing days (`anomalies`).
Both land in one transaction: a kill leaves the run with all of its evidence or none, and
writing again for the same run adds nothing.

Diagnostics reads what the other steps left, whatever state they left it in: a day whose
ingestion failed has no coverage rows, and that is the evidence (its checks fail).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from helpers.core import db
from helpers.core.clock import utcnow
from helpers.core.settings import Settings
from helpers.core.slate import Slate
from helpers.evidence.anomalies import check_anomalies, write_anomalies
from helpers.evidence.tables import Evidence, collect, write_evidence
from helpers.grading.compare import TRAILING_SLATES, compare_sources
from helpers.grading.read import stored_scored, window

log = logging.getLogger(__name__)


@dataclass
class DiagnosticsResult:
    evidence: Evidence
    added: dict[str, int]      # rows added per table (0 everywhere when written before)
    checks: pd.DataFrame       # anomalies.COLUMNS
    graded_slates: list[date]  # slates of the window with forecast accuracy rows

    @property
    def status(self) -> str:
        return "success"  # failed checks are findings for the report, not a failed step

    @property
    def failed_checks(self) -> pd.DataFrame:
        return self.checks[~self.checks["passed"]]

    def summary(self) -> str:
        added = sum(self.added.values())
        return (f"{added} evidence rows written ({len(self.evidence.coverage)} coverage, "
                f"{len(self.evidence.mapping)} mapping, {len(self.evidence.ev_summary)} EV, "
                f"{len(self.evidence.accuracy)} accuracy rows for "
                f"{len(self.graded_slates)} graded slates, {len(self.evidence.comparison)} "
                f"model/market comparisons); {len(self.checks)} anomaly "
                f"checks, {len(self.failed_checks)} failed")


def run_diagnostics(con: duckdb.DuckDBPyConnection, settings: Settings, slate: Slate,
                    run_id: str) -> DiagnosticsResult:
    """Step 5: the evidence tables and anomaly checks of the slate's run."""
    slate_date, as_of = slate.date, slate.as_of
    slates = window(slate_date, settings.outcomes.lookback_days)
    scored, sources = stored_scored(con, slates, as_of)
    trailing, trailing_sources = stored_scored(con, window(slate_date, TRAILING_SLATES), as_of)
    comparison = compare_sources(trailing, trailing_sources)
    evidence = collect(con, slate, scored, sources, comparison)
    graded = sorted({pd.Timestamp(d).date() for d in evidence.accuracy["slate_date"]})
    now = utcnow()
    with db.transaction(con):
        added = write_evidence(con, evidence, slate_date, run_id, now)
        checks = check_anomalies(con, slate_date, run_id, as_of, settings.vendors.enabled)
        added["fact_anomaly_checks"] = write_anomalies(con, checks, slate_date, run_id, now)
    result = DiagnosticsResult(evidence, added, checks, graded)
    log.info("diagnostics: %s", result.summary())
    return result
