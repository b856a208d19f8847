-- Schema version 7 (investigating a failed run): a run started by `runner rerun RUN` names
-- the run it repeats on every one of its registry rows. NULL: a scheduled or manual run.
ALTER TABLE fact_run_registry ADD COLUMN rerun_of VARCHAR;
