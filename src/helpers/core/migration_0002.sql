-- Schema version 2 (fault-probe fixes).
-- raw_payloads: a payload is known per (hash, vendor, kind), not per hash alone: identical
--   bodies from two vendors (two empty responses) are two payloads. load_state says whether
--   its rows are in (loaded), it could not be parsed (parse_failed), or it was registered
--   before its file was written and never loaded (pending: the capture was interrupted).
-- fact_run_registry: a run is visible from its start (status running) and a run whose
--   process died is marked interrupted by the next run; (run_id, step) is unique.

CREATE TABLE raw_payloads_v2 (
    payload_hash     VARCHAR NOT NULL,
    vendor           VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,
    capture_ts_utc   TIMESTAMP NOT NULL,
    path             VARCHAR NOT NULL,
    bytes            BIGINT NOT NULL,
    parser_version   VARCHAR,
    rows_parsed      BIGINT,
    rows_inserted    BIGINT,
    rows_rejected    BIGINT,
    parse_error      VARCHAR,
    run_id           VARCHAR,
    registered_ts_utc TIMESTAMP NOT NULL,
    last_seen_ts_utc TIMESTAMP NOT NULL,
    times_seen       INTEGER NOT NULL,
    load_state       VARCHAR NOT NULL,
    PRIMARY KEY (payload_hash, vendor, kind),
    CHECK (load_state IN ('pending', 'loaded', 'parse_failed'))
);
INSERT INTO raw_payloads_v2
SELECT *, CASE WHEN parse_error IS NULL THEN 'loaded' ELSE 'parse_failed' END
FROM raw_payloads;
DROP TABLE raw_payloads;
ALTER TABLE raw_payloads_v2 RENAME TO raw_payloads;

CREATE TABLE fact_run_registry_v2 (
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
    PRIMARY KEY (run_id, step),
    CHECK (status IN ('running', 'success', 'partial', 'failed', 'timeout', 'skipped',
                      'interrupted'))
);
INSERT INTO fact_run_registry_v2
SELECT * FROM fact_run_registry QUALIFY row_number() OVER (PARTITION BY run_id, step) = 1;
DROP TABLE fact_run_registry;
ALTER TABLE fact_run_registry_v2 RENAME TO fact_run_registry;
