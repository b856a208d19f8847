"""Stage 2: the NHL api-web stats (schedule and boxscores) -> dim_games, dim_players,
fact_skater_games, fact_goalie_games (docs/domain.md, section 3). Imports only helpers.core."""
