"""The prop markets the pipeline knows, declared once (the schema's CHECK lists the same)."""

from __future__ import annotations

MARKETS: tuple[str, ...] = ("GOALS", "ASSISTS", "POINTS", "SOG", "BLOCKS")
