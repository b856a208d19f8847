-- Schema version 1 of the ops database (docs/architecture.md). Applied once by helpers.db.
-- Every timestamp is naive UTC and named *_ts_utc; slate_date is the NHL (ET) game date.
-- fact_* tables are append-only; dedup keys are enforced by helpers.db.insert_new_rows.

-- Odds layer -------------------------------------------------------------------------------
CREATE TABLE raw_payloads (
    payload_hash     VARCHAR PRIMARY KEY,   -- SHA-256 of the bytes as saved
    vendor           VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,
    capture_ts_utc   TIMESTAMP NOT NULL,
    path             VARCHAR NOT NULL,      -- relative to OPS_HOME
    bytes            BIGINT NOT NULL,
    parser_version   VARCHAR,
    rows_parsed      BIGINT,
    rows_inserted    BIGINT,
    rows_rejected    BIGINT,
    parse_error      VARCHAR,
    run_id           VARCHAR,
    registered_ts_utc TIMESTAMP NOT NULL,
    last_seen_ts_utc TIMESTAMP NOT NULL,  -- an identical later capture is not re-parsed,
    times_seen       INTEGER NOT NULL     -- but its sighting is kept here
);

CREATE TABLE fact_prop_odds (
    source_vendor         VARCHAR NOT NULL,
    capture_ts_utc        TIMESTAMP NOT NULL,
    event_id_vendor       VARCHAR,
    event_id_vendor_raw   VARCHAR,
    event_name_raw        VARCHAR,
    event_start_ts_utc    TIMESTAMP,
    home_team             VARCHAR,
    away_team             VARCHAR,
    player_id_vendor      VARCHAR,
    player_name_raw       VARCHAR,
    player_team           VARCHAR,
    market_type           VARCHAR NOT NULL,
    line                  DOUBLE,
    side                  VARCHAR NOT NULL,
    book_id_vendor        VARCHAR,
    book_name_raw         VARCHAR,
    book_type             VARCHAR,
    odds_american         INTEGER,
    odds_decimal          DOUBLE NOT NULL,
    odds_quoted_raw       VARCHAR,
    odds_quoted_format    VARCHAR,
    odds_american_derived BOOLEAN,
    odds_decimal_derived  BOOLEAN,
    is_live               BOOLEAN,
    raw_payload_path      VARCHAR,
    raw_payload_hash      VARCHAR NOT NULL,
    vendor_market_id      VARCHAR,
    vendor_outcome_key    VARCHAR,
    parser_version        VARCHAR NOT NULL,
    CHECK (market_type IN ('GOALS', 'ASSISTS', 'POINTS', 'SOG', 'BLOCKS')),
    CHECK (side IN ('OVER', 'UNDER')),
    CHECK (odds_decimal > 1)
);

CREATE TABLE fact_rejected_odds (
    raw_payload_hash VARCHAR NOT NULL,
    source_vendor    VARCHAR NOT NULL,
    capture_ts_utc   TIMESTAMP NOT NULL,
    reason           VARCHAR NOT NULL,
    n_rejected       BIGINT NOT NULL,
    example          VARCHAR,
    parser_version   VARCHAR NOT NULL,
    run_id           VARCHAR
);

CREATE TABLE dim_books (
    source_vendor     VARCHAR NOT NULL,
    book_id_vendor    VARCHAR NOT NULL,
    book_name         VARCHAR NOT NULL,
    book_type         VARCHAR NOT NULL,   -- SPORTSBOOK | DFS | DERIVED
    first_seen_ts_utc TIMESTAMP NOT NULL,
    last_seen_ts_utc  TIMESTAMP NOT NULL,
    PRIMARY KEY (source_vendor, book_id_vendor)
);

CREATE TABLE dim_markets (
    source_vendor     VARCHAR NOT NULL,
    vendor_market_id  VARCHAR NOT NULL,
    market_type       VARCHAR NOT NULL,
    first_seen_ts_utc TIMESTAMP NOT NULL,
    last_seen_ts_utc  TIMESTAMP NOT NULL,
    PRIMARY KEY (source_vendor, vendor_market_id, market_type)
);

CREATE TABLE map_players (
    source_vendor    VARCHAR NOT NULL,
    player_key_vendor VARCHAR NOT NULL,   -- vendor id, or normalized name|team when no id
    player_id        BIGINT,
    method           VARCHAR NOT NULL,
    confidence       DOUBLE,
    updated_ts_utc   TIMESTAMP NOT NULL,
    PRIMARY KEY (source_vendor, player_key_vendor)
);

CREATE TABLE map_events (
    source_vendor    VARCHAR NOT NULL,
    event_id_vendor  VARCHAR NOT NULL,
    game_id          BIGINT,
    method           VARCHAR NOT NULL,
    confidence       DOUBLE,
    updated_ts_utc   TIMESTAMP NOT NULL,
    PRIMARY KEY (source_vendor, event_id_vendor)
);

-- Stats layer (NHL api-web) ------------------------------------------------------------------
CREATE TABLE dim_games (
    game_id       BIGINT PRIMARY KEY,
    season        INTEGER NOT NULL,
    game_type     INTEGER NOT NULL,
    slate_date    DATE NOT NULL,
    start_ts_utc  TIMESTAMP NOT NULL,
    home_team     VARCHAR NOT NULL,
    away_team     VARCHAR NOT NULL,
    state         VARCHAR NOT NULL,
    home_score    INTEGER,
    away_score    INTEGER,
    updated_ts_utc TIMESTAMP NOT NULL
);

CREATE TABLE dim_players (
    player_id      BIGINT PRIMARY KEY,
    name           VARCHAR NOT NULL,
    position       VARCHAR,
    team           VARCHAR,
    updated_ts_utc TIMESTAMP NOT NULL
);

CREATE TABLE fact_skater_games (
    game_id        BIGINT NOT NULL,
    player_id      BIGINT NOT NULL,
    team           VARCHAR NOT NULL,
    opponent       VARCHAR NOT NULL,
    is_home        BOOLEAN NOT NULL,
    position       VARCHAR,
    goals          INTEGER NOT NULL,
    assists        INTEGER NOT NULL,
    points         INTEGER NOT NULL,
    sog            INTEGER NOT NULL,
    blocked_shots  INTEGER NOT NULL,
    hits           INTEGER,
    power_play_goals INTEGER,
    toi_seconds    INTEGER NOT NULL,
    shifts         INTEGER,
    PRIMARY KEY (game_id, player_id)
);

CREATE TABLE fact_goalie_games (
    game_id        BIGINT NOT NULL,
    player_id      BIGINT NOT NULL,
    team           VARCHAR NOT NULL,
    opponent       VARCHAR NOT NULL,
    is_home        BOOLEAN NOT NULL,
    toi_seconds    INTEGER NOT NULL,
    shots_against  INTEGER,
    saves          INTEGER,
    goals_against  INTEGER,
    starter        BOOLEAN,
    PRIMARY KEY (game_id, player_id)
);

-- Model / EV / outcomes ----------------------------------------------------------------------
CREATE TABLE fact_prob_snapshot (
    snapshot_id     VARCHAR NOT NULL,
    snapshot_ts_utc TIMESTAMP NOT NULL,
    slate_date      DATE NOT NULL,
    game_id         BIGINT NOT NULL,
    player_id       BIGINT NOT NULL,
    market_type     VARCHAR NOT NULL,
    line            DOUBLE NOT NULL,
    p_over          DOUBLE NOT NULL,
    p_under         DOUBLE NOT NULL,
    p_push          DOUBLE NOT NULL,
    mu              DOUBLE NOT NULL,
    distribution    VARCHAR NOT NULL,
    alpha           DOUBLE,
    games_used      INTEGER NOT NULL,
    multipliers_json VARCHAR,
    model_version   VARCHAR NOT NULL,
    run_id          VARCHAR,
    PRIMARY KEY (snapshot_id, game_id, player_id, market_type, line)
);

CREATE TABLE fact_ev_candidates (
    run_id             VARCHAR NOT NULL,
    snapshot_id        VARCHAR NOT NULL,
    slate_date         DATE NOT NULL,
    game_id            BIGINT,
    player_id          BIGINT,
    source_vendor      VARCHAR NOT NULL,
    book_id_vendor     VARCHAR,
    book_name          VARCHAR,
    book_type          VARCHAR,
    market_type        VARCHAR NOT NULL,
    line               DOUBLE NOT NULL,
    side               VARCHAR NOT NULL,
    capture_ts_utc     TIMESTAMP NOT NULL,
    odds_decimal       DOUBLE NOT NULL,
    odds_american      INTEGER,
    p_model            DOUBLE,
    p_implied          DOUBLE,
    p_fair             DOUBLE,
    p_consensus        DOUBLE,
    ev                 DOUBLE,
    kelly_fraction     DOUBLE,
    odds_age_minutes   DOUBLE,
    is_eligible        BOOLEAN NOT NULL,
    exclusion_reason   VARCHAR,
    is_suspicious      BOOLEAN,
    vendor_outcome_key VARCHAR
);

CREATE TABLE fact_prop_outcomes (
    game_id        BIGINT NOT NULL,
    player_id      BIGINT NOT NULL,
    market_type    VARCHAR NOT NULL,
    actual         INTEGER,            -- NULL: player had no boxscore row (scratched)
    graded_ts_utc  TIMESTAMP NOT NULL,
    PRIMARY KEY (game_id, player_id, market_type)
);

CREATE TABLE fact_bet_results (
    run_id               VARCHAR NOT NULL,
    snapshot_id          VARCHAR NOT NULL,
    game_id              BIGINT NOT NULL,
    player_id            BIGINT NOT NULL,
    source_vendor        VARCHAR NOT NULL,
    book_id_vendor       VARCHAR,
    market_type          VARCHAR NOT NULL,
    line                 DOUBLE NOT NULL,
    side                 VARCHAR NOT NULL,
    odds_decimal         DOUBLE NOT NULL,
    result               VARCHAR NOT NULL,   -- WIN | LOSS | PUSH | VOID
    profit_units         DOUBLE NOT NULL,
    closing_odds_decimal DOUBLE,
    clv                  DOUBLE,
    clv_prob             DOUBLE,
    graded_ts_utc        TIMESTAMP NOT NULL
);

-- Ops and evidence ---------------------------------------------------------------------------
CREATE TABLE fact_run_registry (
    run_id          VARCHAR NOT NULL,
    slate_date      DATE NOT NULL,
    as_of_ts_utc    TIMESTAMP NOT NULL,
    step            VARCHAR NOT NULL,
    step_order      INTEGER NOT NULL,
    status          VARCHAR NOT NULL,
    started_ts_utc  TIMESTAMP,
    finished_ts_utc TIMESTAMP,
    duration_s      DOUBLE,
    error_type      VARCHAR,
    error_summary   VARCHAR,
    notebook_path   VARCHAR,
    parameters_json VARCHAR,
    code_version    VARCHAR,
    CHECK (status IN ('success', 'partial', 'failed', 'timeout', 'skipped'))
);

CREATE TABLE fact_vendor_fetch_log (
    run_id         VARCHAR,
    vendor         VARCHAR NOT NULL,
    endpoint       VARCHAR NOT NULL,
    url_redacted   VARCHAR NOT NULL,
    request_ts_utc TIMESTAMP NOT NULL,
    attempt        INTEGER NOT NULL,
    status_code    INTEGER,
    elapsed_ms     DOUBLE,
    bytes          BIGINT,
    error          VARCHAR
);

CREATE TABLE fact_odds_coverage_daily (
    run_id          VARCHAR NOT NULL,
    slate_date      DATE NOT NULL,
    source_vendor   VARCHAR NOT NULL,
    book_name       VARCHAR,
    market_type     VARCHAR,
    n_rows          BIGINT NOT NULL,
    n_events        BIGINT,
    n_players       BIGINT,
    n_captures      BIGINT,
    last_capture_ts_utc TIMESTAMP,
    computed_ts_utc TIMESTAMP NOT NULL
);

CREATE TABLE fact_mapping_quality_daily (
    run_id          VARCHAR NOT NULL,
    slate_date      DATE NOT NULL,
    source_vendor   VARCHAR NOT NULL,
    entity          VARCHAR NOT NULL,   -- event | player
    n_total         BIGINT NOT NULL,
    n_mapped        BIGINT NOT NULL,
    mapped_rate     DOUBLE,
    top_unmapped    VARCHAR,
    computed_ts_utc TIMESTAMP NOT NULL
);

CREATE TABLE fact_ev_summary_daily (
    run_id          VARCHAR NOT NULL,
    slate_date      DATE NOT NULL,
    source_vendor   VARCHAR NOT NULL,
    book_name       VARCHAR,
    market_type     VARCHAR,
    n_candidates    BIGINT NOT NULL,
    n_eligible      BIGINT NOT NULL,
    n_positive_ev   BIGINT NOT NULL,
    ev_mean         DOUBLE,
    ev_p50          DOUBLE,
    ev_p90          DOUBLE,
    ev_max          DOUBLE,
    n_suspicious    BIGINT,
    computed_ts_utc TIMESTAMP NOT NULL
);

CREATE TABLE fact_forecast_accuracy_daily (
    run_id          VARCHAR NOT NULL,
    slate_date      DATE NOT NULL,
    market_type     VARCHAR NOT NULL,
    line            DOUBLE,
    n               BIGINT NOT NULL,
    hit_rate        DOUBLE,
    log_loss        DOUBLE,
    log_loss_baseline DOUBLE,
    log_loss_improvement DOUBLE,
    brier           DOUBLE,
    ece             DOUBLE,
    auc             DOUBLE,
    top5_hit_rate   DOUBLE,
    top10_hit_rate  DOUBLE,
    top20_hit_rate  DOUBLE,
    market_log_loss DOUBLE,
    computed_ts_utc TIMESTAMP NOT NULL
);
