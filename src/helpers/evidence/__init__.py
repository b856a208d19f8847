"""Step 5's evidence layer: the per-run summary tables (`tables`), append-only."""
