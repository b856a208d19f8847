-- Schema version 8 (backfill): what a backfill has done, per source. One row per snapshot
-- loaded (or found already loaded, or failed) and one per day completed (snapshot = the
-- day's folder 'YYYY/MM/DD/', outcome 'day'), so a rerun, or a run after kill -9, starts
-- where the last one stopped.
CREATE TABLE backfill_checkpoints (
    source        VARCHAR NOT NULL,   -- dir:<path> | url:<base>
    snapshot      VARCHAR NOT NULL,   -- YYYY/MM/DD/<file>, or YYYY/MM/DD/ for a whole day
    payload_hash  VARCHAR,
    outcome       VARCHAR NOT NULL,   -- loaded | resumed | duplicate | parse_failed | day
    rows_inserted BIGINT NOT NULL,
    run_id        VARCHAR NOT NULL,
    done_ts_utc   TIMESTAMP NOT NULL,
    PRIMARY KEY (source, snapshot)
);
