-- Schema version 9 (EV priced from a blend fitted on graded evidence).
-- fact_ev_candidates: `ev`, the gates and Kelly now use `p_price` (the win probability of the
-- side from the per-market blend of the model and the sportsbooks' consensus); the model's own
-- EV stays in `ev_model`. `model_version` is the snapshot the blend started from,
-- `price_method` how the market's blend was chosen (fitted | prior), `stake_fraction` the
-- fractional-Kelly stake (EV_KELLY_FRACTION x full Kelly on p_price). Rows written before
-- this version priced EV from the model alone: their `ev_model` is their `ev`.
ALTER TABLE fact_ev_candidates ADD COLUMN p_price DOUBLE;
ALTER TABLE fact_ev_candidates ADD COLUMN ev_model DOUBLE;
ALTER TABLE fact_ev_candidates ADD COLUMN model_version VARCHAR;
ALTER TABLE fact_ev_candidates ADD COLUMN price_method VARCHAR;
ALTER TABLE fact_ev_candidates ADD COLUMN stake_fraction DOUBLE;
UPDATE fact_ev_candidates SET ev_model = ev, model_version = 'p10-nhlapi', price_method = 'model';

-- fact_bet_results keeps what the bet claimed when it was taken, so that claims can be held
-- against results from this table alone.
ALTER TABLE fact_bet_results ADD COLUMN p_price DOUBLE;
ALTER TABLE fact_bet_results ADD COLUMN p_consensus DOUBLE;
ALTER TABLE fact_bet_results ADD COLUMN ev_model DOUBLE;
ALTER TABLE fact_bet_results ADD COLUMN ev_market DOUBLE;
ALTER TABLE fact_bet_results ADD COLUMN stake_fraction DOUBLE;
UPDATE fact_bet_results SET ev_model = ev;

-- One row per EV run, model version and market: the blend the run priced with, fitted on
-- the graded props of earlier slates only (walk-forward). logit P(over) = intercept
-- + coef_model x logit(model P(over)) + coef_consensus x logit(consensus P(over)).
-- method 'prior': too few graded props (n_props < the minimum), the prior was used.
-- In-sample log losses of the blend, the model alone and the consensus alone on the fit's
-- props; *_prev_slate: on the newest graded slate of the window, by a blend fitted without it
-- (out of sample), beside the consensus alone on the same props.
CREATE TABLE fact_price_blend_fits (
    run_id                        VARCHAR NOT NULL,
    slate_date                    DATE NOT NULL,    -- the slate priced
    model_version                 VARCHAR NOT NULL,
    market_type                   VARCHAR NOT NULL,
    method                        VARCHAR NOT NULL,
    intercept                     DOUBLE NOT NULL,
    coef_model                    DOUBLE NOT NULL,
    coef_consensus                DOUBLE NOT NULL,
    n_props                       BIGINT NOT NULL,
    n_slates                      INTEGER NOT NULL,
    first_slate                   DATE,
    last_slate                    DATE,
    log_loss_in_sample            DOUBLE,
    log_loss_model_in_sample      DOUBLE,
    log_loss_consensus_in_sample  DOUBLE,
    n_prev_slate                  BIGINT,
    log_loss_prev_slate           DOUBLE,
    log_loss_consensus_prev_slate DOUBLE,
    computed_ts_utc               TIMESTAMP NOT NULL,
    CHECK (method IN ('fitted', 'prior')),
    PRIMARY KEY (run_id, model_version, market_type)
);

-- The slate's schedule as the production step last fetched it, games in any state. dim_games
-- holds final games only (there a final state means "boxscore stored"), so before this
-- table EV knew neither the teams nor the state of a game not yet played: its reports
-- showed no game, and its live gate could only see the vendors' flag.
CREATE TABLE dim_scheduled_games (
    game_id        BIGINT PRIMARY KEY,
    slate_date     DATE NOT NULL,
    start_ts_utc   TIMESTAMP NOT NULL,
    home_team      VARCHAR NOT NULL,
    away_team      VARCHAR NOT NULL,
    state          VARCHAR NOT NULL,
    updated_ts_utc TIMESTAMP NOT NULL
);
