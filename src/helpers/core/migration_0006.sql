-- Schema version 6 (diagnostics): reliability bins per graded slate, so that a calibration
-- curve and an exact ECE over any window are sums over days (an ECE cannot be averaged).
-- One row per run, graded slate, source (model version or 'market'), market and bin of
-- 10 equal-width bins of P(over): the props in the bin, the sum of their P(over) and the
-- number that went over. Scope as in fact_forecast_accuracy_daily.
CREATE TABLE fact_calibration_daily (
    run_id          VARCHAR NOT NULL,
    slate_date      DATE NOT NULL,      -- the graded slate
    source          VARCHAR NOT NULL,
    scope           VARCHAR NOT NULL,
    market_type     VARCHAR NOT NULL,
    bin             INTEGER NOT NULL,   -- 0..9: P(over) in [bin/10, (bin+1)/10)
    n               BIGINT NOT NULL,
    sum_p           DOUBLE NOT NULL,
    sum_y           DOUBLE NOT NULL,
    computed_ts_utc TIMESTAMP NOT NULL,
    CHECK (scope IN ('own', 'shared'))
);
