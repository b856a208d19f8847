-- Schema version 4 (outcomes, step 4).
-- fact_bet_results is rebuilt: no step wrote it before this version, so it holds no rows.
-- A result now names the EV candidate it grades (the candidate's run and vendor keys), keeps
-- the stat it was graded on and both sides of the closing line value. The grading step
-- replaces a slate's results in one transaction, so a regrade after a stat correction
-- updates them and a rerun changes nothing.
-- fact_outcome_corrections logs every outcome that changed after it was first graded.

DROP TABLE fact_bet_results;
CREATE TABLE fact_bet_results (
    slate_date             DATE NOT NULL,
    candidate_run_id       VARCHAR NOT NULL,
    snapshot_id            VARCHAR,
    game_id                BIGINT NOT NULL,
    player_id              BIGINT NOT NULL,
    source_vendor          VARCHAR NOT NULL,
    event_id_vendor        VARCHAR,
    player_key_vendor      VARCHAR NOT NULL,
    book_id_vendor         VARCHAR,
    book_name              VARCHAR,
    book_type              VARCHAR,
    market_type            VARCHAR NOT NULL,
    line                   DOUBLE NOT NULL,
    side                   VARCHAR NOT NULL,
    capture_ts_utc         TIMESTAMP NOT NULL,
    odds_decimal           DOUBLE NOT NULL,
    p_model                DOUBLE,
    ev                     DOUBLE,
    is_eligible            BOOLEAN NOT NULL,
    actual                 INTEGER,            -- NULL: the player did not dress (VOID)
    result                 VARCHAR NOT NULL,
    profit_units           DOUBLE NOT NULL,
    closing_capture_ts_utc TIMESTAMP,
    closing_odds_decimal   DOUBLE,
    clv                    DOUBLE,
    p_fair_taken           DOUBLE,
    p_fair_close           DOUBLE,
    clv_prob               DOUBLE,
    graded_ts_utc          TIMESTAMP NOT NULL,
    run_id                 VARCHAR NOT NULL,   -- the grading run
    CHECK (result IN ('WIN', 'LOSS', 'PUSH', 'VOID')),
    CHECK (side IN ('OVER', 'UNDER'))
);

CREATE TABLE fact_outcome_corrections (
    game_id         BIGINT NOT NULL,
    player_id       BIGINT NOT NULL,
    market_type     VARCHAR NOT NULL,
    old_actual      INTEGER,
    new_actual      INTEGER,
    detected_ts_utc TIMESTAMP NOT NULL,
    run_id          VARCHAR NOT NULL
);
