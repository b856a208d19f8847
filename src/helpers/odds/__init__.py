"""Stage 1, odds: prices (pure arithmetic), vendors/ (one module per source), capture (fetch
+ raw first), load (the one store function), renormalize and report."""
