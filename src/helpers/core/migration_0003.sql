-- Schema version 3 (EV, step 3).
-- fact_ev_candidates is rebuilt: no step wrote it before this version, so it holds no rows.
-- A candidate now keeps the vendor keys it came from (an unmapped row has no NHL ids but
-- must still be traceable), the push probability, the consensus's book count, minutes to
-- start, the mapping confidence, games used, and why it is suspicious. One row per run and
-- priced (vendor, book, event, player, market, line, side); the insert is idempotent on
-- that key (helpers.core.db.insert_new_rows; book_id_vendor may be NULL, so no PRIMARY KEY).

DROP TABLE fact_ev_candidates;
CREATE TABLE fact_ev_candidates (
    run_id             VARCHAR NOT NULL,
    snapshot_id        VARCHAR,            -- NULL: no production snapshot for the slate
    slate_date         DATE NOT NULL,
    as_of_ts_utc       TIMESTAMP NOT NULL,
    game_id            BIGINT,
    player_id          BIGINT,
    source_vendor      VARCHAR NOT NULL,
    event_id_vendor    VARCHAR,
    player_key_vendor  VARCHAR NOT NULL,
    player_name_raw    VARCHAR,
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
    p_push             DOUBLE,
    p_implied          DOUBLE,
    p_fair             DOUBLE,
    p_consensus        DOUBLE,
    n_consensus_books  INTEGER,
    ev                 DOUBLE,
    ev_market          DOUBLE,             -- EV with the consensus p in place of the model's
    kelly_fraction     DOUBLE,
    odds_age_minutes   DOUBLE,
    minutes_to_start   DOUBLE,
    mapping_confidence DOUBLE,
    games_used         INTEGER,
    is_eligible        BOOLEAN NOT NULL,
    exclusion_reason   VARCHAR,
    is_suspicious      BOOLEAN NOT NULL,
    suspicious_reasons VARCHAR,
    vendor_outcome_key VARCHAR,
    CHECK (side IN ('OVER', 'UNDER')),
    CHECK (is_eligible = (exclusion_reason IS NULL))
);

-- map_players: one row per vendor player *in a vendor event*. A name-keyed player
-- ("J. Smith|") can appear in two games of a slate as two different people; keyed without
-- the event, the later mapping overwrote the earlier and EV could join the wrong player's
-- probability. Earlier rows keep event_id_vendor '' (event not recorded).
-- Both maps keep the reason a row is unmapped (no_game, no_such_player, ambiguous, ...).
CREATE TABLE map_players_v3 (
    source_vendor     VARCHAR NOT NULL,
    event_id_vendor   VARCHAR NOT NULL,
    player_key_vendor VARCHAR NOT NULL,   -- vendor id, or normalized name|team when no id
    player_id         BIGINT,
    method            VARCHAR NOT NULL,
    confidence        DOUBLE,
    reason            VARCHAR,
    updated_ts_utc    TIMESTAMP NOT NULL,
    PRIMARY KEY (source_vendor, event_id_vendor, player_key_vendor)
);
INSERT INTO map_players_v3 (source_vendor, event_id_vendor, player_key_vendor, player_id,
                            method, confidence, reason, updated_ts_utc)
SELECT source_vendor, '', player_key_vendor, player_id, method, confidence, NULL,
       updated_ts_utc
FROM map_players;
DROP TABLE map_players;
ALTER TABLE map_players_v3 RENAME TO map_players;

ALTER TABLE map_events ADD COLUMN reason VARCHAR;
