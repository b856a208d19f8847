-- Schema version 13 (hostile vendor data).
-- raw_payloads.parse_attempts counts the parses a payload was given (committed before each
--   one starts), so a parse that never finished - the process killed inside the parser -
--   is known: a payload left pending after two such attempts is quarantined (load_state
--   'quarantined', quarantined_ts_utc set) instead of being retried by every capture. It
--   stays raw and registered; `runner renormalize` parses it again after a parser fix.

CREATE TABLE raw_payloads_v13 (
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
    parse_attempts   INTEGER NOT NULL DEFAULT 0,
    quarantined_ts_utc TIMESTAMP,
    PRIMARY KEY (payload_hash, vendor, kind),
    CHECK (load_state IN ('pending', 'loaded', 'parse_failed', 'quarantined'))
);
INSERT INTO raw_payloads_v13 (payload_hash, vendor, kind, capture_ts_utc, path, bytes,
                              parser_version, rows_parsed, rows_inserted, rows_rejected,
                              parse_error, run_id, registered_ts_utc, last_seen_ts_utc,
                              times_seen, load_state, parse_attempts, quarantined_ts_utc)
SELECT payload_hash, vendor, kind, capture_ts_utc, path, bytes, parser_version, rows_parsed,
       rows_inserted, rows_rejected, parse_error, run_id, registered_ts_utc, last_seen_ts_utc,
       times_seen, load_state, CASE WHEN load_state = 'pending' THEN 0 ELSE 1 END, NULL
FROM raw_payloads;
DROP TABLE raw_payloads;
ALTER TABLE raw_payloads_v13 RENAME TO raw_payloads;
