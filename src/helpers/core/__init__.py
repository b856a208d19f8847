"""Shared foundation: settings, clock, errors, the database, HTTP, the raw store, team codes
and the step and vendor registries. Imports no stage package."""
