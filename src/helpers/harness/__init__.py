"""The harness around the pipeline: what runs it on the demo world and referees it.

- `offline`: a temporary home for a notebook opened by hand, seeded by running the earlier
  steps against an in-process emulator;
- `referee`: the truth the demo world knows, set beside what the pipeline wrote.

It may use every stage and the world (`helpers.demo`); the world may use neither: the
emulator must not share a bug with the parsers it feeds.
"""
