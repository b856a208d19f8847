"""Reading what the grading step wrote (`fact_bet_results`, `fact_prop_outcomes`).

Diagnostics and the reports read graded bets only through this module. "A settled eligible
bet" is defined here once: a bet EV recommended (`is_eligible`) whose result is known and
counts - won, lost or pushed. A void bet (a scratch, a called-off game) was refunded and a
pending one is not decided: neither says anything about the claim.
"""

from __future__ import annotations

import pandas as pd

SETTLED_RESULTS = ("WIN", "LOSS", "PUSH")
_SETTLED_SQL = ", ".join(f"'{r}'" for r in SETTLED_RESULTS)

# Every graded row of EV's newest run of each slate, eligible or not, with its result.
BET_RESULTS_SQL = "SELECT * FROM fact_bet_results"

# The recommended bets, whatever their result (a report counts voids and pushes too).
ELIGIBLE_BETS_SQL = "SELECT * FROM fact_bet_results WHERE is_eligible"

# The settled eligible bets.
SETTLED_BETS_SQL = (f"SELECT * FROM fact_bet_results "
                    f"WHERE is_eligible AND result IN ({_SETTLED_SQL})")


def settled(results: pd.DataFrame) -> pd.DataFrame:
    """The settled eligible bets of a frame of graded rows (`SETTLED_BETS_SQL` in pandas)."""
    return results[results["is_eligible"].astype(bool)
                   & results["result"].isin(SETTLED_RESULTS)]
