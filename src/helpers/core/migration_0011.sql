-- Schema version 11 (production): how many games the slate has, as the production step last
-- fetched its schedule. dim_scheduled_games holds a slate's games, so a slate with none (an
-- off day: the All-Star break, the days before the season) left no row anywhere, and the
-- steps after production could not tell an off day from a day production never saw: EV and
-- the anomaly checks called it an incident.
CREATE TABLE dim_slates (
    slate_date     DATE PRIMARY KEY,
    games          INTEGER NOT NULL,  -- games on the schedule, in any state; 0: an off day
    run_id         VARCHAR NOT NULL,  -- the run whose production step fetched it
    updated_ts_utc TIMESTAMP NOT NULL
);
