"""The daily run's steps (declared once in `helpers.core.steps`) and how flags choose them."""

from __future__ import annotations

from collections.abc import Mapping

from helpers.core.steps import STEPS, Step

__all__ = ["STEPS", "Step", "resolve_enabled"]


def resolve_enabled(cli: Mapping[str, bool], env_overrides: Mapping[str, bool]) -> dict[str, bool]:
    """Which steps run: CLI flags (or --all), then any env var that is set wins."""
    return {step.name: env_overrides.get(step.name, cli.get(step.name, False)) for step in STEPS}
