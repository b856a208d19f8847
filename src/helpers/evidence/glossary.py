"""One line for every column a report table shows: what it counts or measures, in words.

The reports end with a "Columns" section listing the columns their tables showed
(`markdown.take_shown_columns()` -> `columns_markdown`), and `docs/glossary.md` is this
dictionary as a page (`docs_markdown()`; tests/evidence/test_glossary.py keeps the two
equal and every rendered column defined). A name means one thing in every table; where a
table needs another meaning, it gets another name.

Run `python -m helpers.evidence.glossary > docs/glossary.md` after editing COLUMNS.
"""

from __future__ import annotations

UNDEFINED = "_not defined yet_"

COLUMNS: dict[str, str] = {
    # ---- runs, steps, vendors
    "run": "The run id: when the run started (UTC) and a random suffix.",
    "step": "A step of the daily run: odds_ingestion, production, ev, outcomes, diagnostics, "
            "or report (the render of the reports).",
    "status": "How the step ended: success, partial (some vendors failed), failed, timeout, "
              "interrupted (its process died), skipped or running.",
    "seconds": "Wall-clock seconds the step took.",
    "summary": "What the step did, or why it failed (its error, secrets removed).",
    "vendor": "The source the run fetched from: an odds vendor (PLAYNOW, UNABATED, ODDSSHARK) "
              "or NHL_API.",
    "source_vendor": "The odds vendor the prices came from: PLAYNOW, UNABATED or ODDSSHARK.",
    "attempts": "HTTP requests sent to the vendor by the slate's runs, retries included.",
    "retries": "Attempts after the first of a request (after an error, a timeout, 429 or 5xx).",
    "errors": "Attempts that failed: an exception (timeout, refused connection) or a status of "
              "400 and up.",
    "error_rate": "errors / attempts.",
    "p50_ms": "Median latency of the vendor's attempts, in milliseconds.",
    "p95_ms": "95th-percentile latency of the vendor's attempts, in milliseconds.",
    "all_failed": "ALL FAILED when every attempt to the vendor failed.",
    "payloads_new": "Payloads saved raw by the slate's runs (a payload already seen, same "
                    "hash, is not saved or loaded again).",
    "payloads_not_loaded": "Payloads saved but not loaded into the odds table (a parse that "
                           "was interrupted or failed).",
    "rows_inserted": "Odds rows the runs inserted from the vendor's payloads.",
    "rows_rejected": "Prices the parser did not turn into rows, counted by reason.",
    "rejections": "rows_rejected by reason, most frequent first.",
    "payloads_quarantined": "Payloads whose parse failed twice: kept raw, skipped until "
                            "`runner renormalize` parses them with a fixed parser.",
    # ---- coverage, mapping
    "market_type": "The prop market: GOALS, ASSISTS, POINTS, SOG (shots on goal) or BLOCKS.",
    "market": "The prop market (GOALS, ASSISTS, POINTS, SOG, BLOCKS); `all` is every market.",
    "books": "Books quoting the prop (Top bets: every book at the best price; Coverage: "
             "distinct books of the vendor and market).",
    "events": "Vendor events (games) with prices, the most in one book.",
    "players": "Vendor players with prices, the most in one book.",
    "rows": "Odds rows of the slate (one price of a book, player, market, line and side per "
            "capture).",
    "games": "NHL games: the slate's games (Coverage, Snapshot) or the graded games compared "
             "(Models against the market).",
    "rows_per_game": "rows / games.",
    "trailing_median_per_game": "Median of rows per game over the trailing 14 slates (a slate "
                                "without the vendor counts 0).",
    "trailing_median_rows": "Median of rows over the trailing 14 slates, used while a slate's "
                            "games are unknown.",
    "change": "Today against the trailing median (per game when games are known): -50 % "
              "means half the usual.",
    "entity": "What is mapped: a vendor's event (to an NHL game) or player (to an NHL player).",
    "n_total": "Distinct vendor events or players on the slate.",
    "n_mapped": "Of those, mapped to an NHL game or player.",
    "mapped_rate": "n_mapped / n_total.",
    "top_unmapped": "The first unmapped names, with the reason each was not mapped.",
    # ---- snapshot
    "model_version": "The model that made the probabilities: p10-nhlapi (production) or a "
                     "challenger (eb-season).",
    "skaters": "Skaters the model priced on the slate.",
    "lines": "(player, line) pairs priced in the market.",
    "mu_mean": "Mean of the skaters' expected counts (mu) in the market.",
    "mu_p50": "Median mu.",
    "mu_p90": "90th-percentile mu.",
    "mu_max": "Largest mu.",
    "snapshot_id": "The snapshot the figures come from: the run that made it and the model.",
    # ---- EV
    "stage": "A gate of the EV step, in the order they apply, with what a row needs to pass.",
    "removed": "Rows this gate took out (a row failing several gates counts at the first).",
    "left": "Rows still in after this gate.",
    "method": "How the market's pricing blend was made: fitted on graded props, or prior (the "
              "consensus alone, while a market has too few).",
    "coef_model": "Blend weight on logit(model p).",
    "coef_consensus": "Blend weight on logit(consensus p).",
    "intercept": "Blend intercept on the logit scale.",
    "n_props": "Graded half-line props the blend was fitted on.",
    "n_slates": "Earlier slates those props came from (never the slate priced).",
    "log_loss_in_sample": "Mean log loss per prop of the blend on the props it was fitted on.",
    "log_loss_model_in_sample": "The same for the model's p alone.",
    "log_loss_consensus_in_sample": "The same for the consensus p alone.",
    "log_loss_prev_slate": "Log loss of the blend on the newest graded slate, fitted without "
                           "that slate (out of sample).",
    "log_loss_consensus_prev_slate": "The consensus alone on that slate, for comparison.",
    "book_name": "The book quoting the price (canonical name).",
    "n_candidates": "Priced rows of the book and market with a model probability.",
    "n_eligible": "Of those, recommended bets (passed every gate).",
    "n_suspicious": "Of the eligible, flagged for a look before a stake.",
    "ev_p50": "Median EV per unit of the book's candidates.",
    "ev_p90": "90th-percentile EV of the book's candidates.",
    "ev_max": "Largest EV of the book's candidates.",
    "player": "The player (NHL name).",
    "game": "The game: away @ home.",
    "start": "Puck drop, Eastern time.",
    "line": "The prop's line: OVER wins above it, UNDER below; an integer line can push.",
    "side": "OVER or UNDER.",
    "price": "The best American price for the prop and side.",
    "vendors": "The odds vendors the best price was seen through.",
    "p_price": "The probability the bet is priced at: the market's blend of model and "
               "consensus, fitted on earlier graded slates.",
    "p_model": "The model's probability of the side.",
    "p_consensus": "The sportsbooks' de-vigged median probability of the side.",
    "ev": "EV per unit staked at p_price: what the system claims (p x decimal - 1; a push "
          "returns the stake).",
    "ev_model": "EV at the model's p alone.",
    "ev_market": "EV at the consensus p.",
    "stake": "Suggested stake as a share of bankroll: fractional Kelly on p_price.",
    "flags": "Why an eligible bet deserves a look: EV over 25 %, a price far from the "
             "consensus, a thin history behind mu, a low-confidence mapping.",
    # ---- accuracy and graded bets
    "source": "Who made the probability: a model version, or market (the sportsbooks' "
              "de-vigged consensus).",
    "n": "Graded props (every source on the same props).",
    "log_loss": "Mean log loss per prop (lower is better).",
    "log_loss_baseline": "Log loss of always predicting each line's hit rate on the slate.",
    "log_loss_improvement": "log_loss_baseline - log_loss: above 0 beats the baseline.",
    "brier": "Mean squared error of P(over) (lower is better).",
    "ece": "Expected calibration error over 10 probability bins: the props-weighted gap "
           "between predicted and observed rates.",
    "auc": "ROC AUC per line (how well P(over) ranks the overs above the unders; 0.5 is a "
           "coin), averaged over lines weighted by props.",
    "top10_hit_rate": "Share of the 10 props rated likeliest to go over that did, per line, "
                      "averaged over lines weighted by props.",
    "bets": "Recommended (eligible) bets in the group, one unit each.",
    "won": "Bets that won.",
    "lost": "Bets that lost.",
    "push_or_void": "Bets pushed (actual = line) or void (the player did not play).",
    "roi": "Realized profit per unit staked (voids not staked); observational, never gates.",
    "roi_without_best_bet": "roi without the single most profitable bet: far from roi when "
                            "one long shot carried it.",
    "clv_mean": "Mean closing line value on the price: decimal taken / the same book's "
                "closing decimal - 1.",
    "clv_prob_mean": "Mean CLV in no-vig probability: closing minus taken (needs both sides "
                     "of the book at the close).",
    "clv_positive_share": "Share of bets with clv_prob above 0 (the market moved their way).",
    # ---- anomaly checks
    "check_name": "The check: freshness, row_count_z, vanished, mapping_rate_drop or "
                  "step_failing.",
    "subject": "What it checked: a vendor, vendor/market, vendor/book, vendor/entity or step.",
    "value": "The checked figure (a z-score, minutes, days seen, a rate change, failures in "
             "a row).",
    "threshold": "The limit the value is held to.",
    "passed": "yes, or NO when the check failed.",
    "detail": "The check in words: the figures behind value.",
    # ---- rolling report
    "metric": "The figure compared across windows.",
    "last_7": "Its value over the last 7 slates.",
    "prev_7": "Over the 7 slates before those.",
    "delta_7": "last_7 - prev_7.",
    "last_30": "Its value over the last 30 slates.",
    "prev_30": "Over the 30 slates before those.",
    "delta_30": "last_30 - prev_30.",
    "claimed_ev_bucket": "The group: the EV the bet claimed when it was recommended.",
    "price_band": "The group: the bet's decimal price (a band includes its lower bound).",
    "claimed_ev": "Mean EV the system claimed (at p_price).",
    "market_ev": "Mean EV at the sportsbooks' de-vigged consensus (bets that had one).",
    "close_ev": "Mean EV at the closing no-vig probability of the side, over bets with a "
                "two-sided close.",
    "bets_with_close": "Bets whose book had both sides at the close (close_ev needs them).",
    "clv": "Mean closing line value on the price: decimal taken / closing decimal - 1.",
    "roi_se": "Standard error of roi, clustered by prop (game, player, market).",
    "z": "(claimed_ev - roi) / roi_se: beyond +-2 the results reject the claim.",
    "reference": "What the source is judged against: market (the consensus) or the "
                 "production model.",
    "slates": "Graded slates compared.",
    "props": "Graded props compared (the same props for both).",
    "log_loss_reference": "Mean log loss of the reference on the same props.",
    "diff": "log_loss - log_loss_reference: below 0, the source is better.",
    "interval_95": "95 % interval of diff: a paired bootstrap over games.",
    "verdict": "Source better (interval below 0), reference better (above 0), or no clear "
               "difference (it holds 0).",
    "slate_date": "The NHL slate (game date, Eastern time).",
    "failed_steps": "Steps of the slate that failed, timed out or were interrupted.",
    "failed_checks": "Anomaly checks of the slate that failed.",
    "failed_check_subjects": "The first failed checks and their subjects.",
    "report": "The slate's daily report.",
}


def definition(name: str) -> str:
    return COLUMNS.get(name, UNDEFINED)


def columns_markdown(names: list[str]) -> str:
    """A Markdown list defining `names`, in their order; a name without a definition says
    so (tests hold every rendered column to a definition)."""
    if not names:
        return "_No table in this report._"
    return "\n".join(f"- **{name}**: {definition(name)}" for name in names)


def docs_markdown() -> str:
    """docs/glossary.md: every column, alphabetically."""
    lines = ["# Report columns", "",
             "Every column a table of the daily or the rolling report shows, in one line. "
             "Each report ends with the definitions of the columns it showed; this page is "
             "all of them, generated from `helpers.evidence.glossary` "
             "(`python -m helpers.evidence.glossary > docs/glossary.md`).", ""]
    lines += [f"- **{name}**: {COLUMNS[name]}" for name in sorted(COLUMNS)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(docs_markdown())
