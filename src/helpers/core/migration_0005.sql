-- Schema version 5 (diagnostics, step 5: the evidence tables).
-- Nothing wrote the evidence tables before this version; the two that change are rebuilt.
-- fact_odds_coverage_daily keeps the first capture beside the last.
-- fact_forecast_accuracy_daily has one row per source (each model version, and 'market':
-- the sportsbooks' de-vigged consensus) and scope: 'own' = every graded prop the source
-- priced, 'shared' = only the props every source priced (where model meets market).

DROP TABLE fact_odds_coverage_daily;
CREATE TABLE fact_odds_coverage_daily (
    run_id               VARCHAR NOT NULL,
    slate_date           DATE NOT NULL,
    source_vendor        VARCHAR NOT NULL,
    book_name            VARCHAR,
    market_type          VARCHAR,
    n_rows               BIGINT NOT NULL,
    n_events             BIGINT,
    n_players            BIGINT,
    n_captures           BIGINT,
    first_capture_ts_utc TIMESTAMP,
    last_capture_ts_utc  TIMESTAMP,
    computed_ts_utc      TIMESTAMP NOT NULL
);

DROP TABLE fact_forecast_accuracy_daily;
CREATE TABLE fact_forecast_accuracy_daily (
    run_id               VARCHAR NOT NULL,
    slate_date           DATE NOT NULL,      -- the graded slate
    source               VARCHAR NOT NULL,   -- model_version, or 'market'
    scope                VARCHAR NOT NULL,   -- own | shared
    market_type          VARCHAR NOT NULL,
    line                 DOUBLE NOT NULL,
    n                    BIGINT NOT NULL,
    hit_rate             DOUBLE,
    log_loss             DOUBLE,
    log_loss_baseline    DOUBLE,
    log_loss_improvement DOUBLE,
    brier                DOUBLE,
    ece                  DOUBLE,
    auc                  DOUBLE,
    top5_hit_rate        DOUBLE,
    top10_hit_rate       DOUBLE,
    top20_hit_rate       DOUBLE,
    computed_ts_utc      TIMESTAMP NOT NULL,
    CHECK (scope IN ('own', 'shared'))
);

-- One row per anomaly check of a run: what was checked, on what (vendor, market, step ...),
-- the value, the threshold, and whether it passed. Checks compare the run's evidence with
-- the trailing days' (helpers.evidence.anomalies).
CREATE TABLE fact_anomaly_checks (
    run_id          VARCHAR NOT NULL,
    slate_date      DATE NOT NULL,
    check_name      VARCHAR NOT NULL,
    subject         VARCHAR NOT NULL,
    value           DOUBLE,
    threshold       DOUBLE,
    passed          BOOLEAN NOT NULL,
    detail          VARCHAR,
    computed_ts_utc TIMESTAMP NOT NULL
);
