-- Schema version 10 (diagnostics): does each model version beat the market, and the
-- challenger the production model? One row per diagnostics run, market and pair (source
-- against reference), over the graded props of the trailing slates before the run's slate
-- that every source priced (`grading.compare.compare_sources`). diff = mean log loss of the
-- source minus the reference's on the same props (negative: the source is better);
-- ci_low / ci_high: the 95 % interval of diff from a paired bootstrap over games (seeded, so
-- a rerun gives the same figures).
CREATE TABLE fact_market_comparison_daily (
    run_id             VARCHAR NOT NULL,
    slate_date         DATE NOT NULL,      -- the run's slate; the props are of slates before it
    market_type        VARCHAR NOT NULL,
    source             VARCHAR NOT NULL,   -- a model version
    reference          VARCHAR NOT NULL,   -- 'market', or the production model
    n_slates           INTEGER NOT NULL,   -- graded slates with props in the comparison
    n_games            BIGINT NOT NULL,
    n_props            BIGINT NOT NULL,
    first_slate        DATE,
    last_slate         DATE,
    log_loss           DOUBLE,             -- the source's mean log loss per prop
    log_loss_reference DOUBLE,             -- the reference's, on the same props
    diff               DOUBLE,             -- log_loss - log_loss_reference
    ci_low             DOUBLE,
    ci_high            DOUBLE,
    n_resamples        INTEGER NOT NULL,
    computed_ts_utc    TIMESTAMP NOT NULL
);
