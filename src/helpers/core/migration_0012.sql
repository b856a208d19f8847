-- Schema version 12 (postponed games): api-web's gameScheduleState is stored beside
-- gameState. A postponed game keeps gameState FUT, so only this field (OK, PPD postponed,
-- SUSP suspended, CNCL cancelled, TBD) says it will not be played as scheduled: production
-- and EV do not price a postponed or cancelled game, and grading voids its bets.
-- dim_games is rebuilt so that the new column sits beside `state` (the parser's frames are
-- the table's columns in order); it holds final games, which were played: 'OK'.
CREATE TABLE dim_games_v12 (
    game_id        BIGINT PRIMARY KEY,
    season         INTEGER NOT NULL,
    game_type      INTEGER NOT NULL,
    slate_date     DATE NOT NULL,
    start_ts_utc   TIMESTAMP NOT NULL,
    home_team      VARCHAR NOT NULL,
    away_team      VARCHAR NOT NULL,
    state          VARCHAR NOT NULL,
    schedule_state VARCHAR NOT NULL,
    home_score     INTEGER,
    away_score     INTEGER,
    updated_ts_utc TIMESTAMP NOT NULL
);
INSERT INTO dim_games_v12 (game_id, season, game_type, slate_date, start_ts_utc, home_team,
                           away_team, state, schedule_state, home_score, away_score,
                           updated_ts_utc)
SELECT game_id, season, game_type, slate_date, start_ts_utc, home_team, away_team, state,
       'OK', home_score, away_score, updated_ts_utc
FROM dim_games;
DROP TABLE dim_games;
ALTER TABLE dim_games_v12 RENAME TO dim_games;

-- The slate's schedule as production fetched it. Rows written before this version were read
-- without the field: NULL (not known), which no reader takes for called off.
ALTER TABLE dim_scheduled_games ADD COLUMN schedule_state VARCHAR;
