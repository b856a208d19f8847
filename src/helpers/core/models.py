"""The model versions, declared once as plain data, so that settings (core) can validate
MODEL_CHALLENGERS without importing the model stage. `helpers.model.versions` maps each
name to its estimator; a test holds the two lists equal.
"""

from __future__ import annotations

# The production model: the snapshot EV prices against. Its logic is frozen (Phase 10).
PRODUCTION_MODEL = "p10-nhlapi"
# Versions that may run beside it (MODEL_CHALLENGERS), scored side by side, never used by EV.
CHALLENGER_MODELS: tuple[str, ...] = ("eb-season",)
