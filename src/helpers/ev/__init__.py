"""Step 3: EV of every priced prop against the production snapshot (`candidates`, pure),
its IO edge (`step`) and what the notebook shows (`report`)."""
