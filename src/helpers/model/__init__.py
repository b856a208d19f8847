"""Step 2's model: the mu estimators of each model version (`features` p10-nhlapi, `eb`
eb-season, `versions`), the count distributions, the snapshot, the step's IO edge
(`production`) and what its notebook shows (`report`). Imports core, odds and nhl."""
