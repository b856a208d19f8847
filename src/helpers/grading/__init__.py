"""Step 4: grading props and bets from official boxscores (`outcomes`, pure), forecast
accuracy (`accuracy`, pure), the step's IO edge (`step`) and what its notebook shows."""
