"""Helpers for the NHL props ops pipeline: settings, HTTP, raw store, DuckDB, vendors, models."""

__version__ = "0.1.0"
