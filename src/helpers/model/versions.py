"""Model version -> its estimator of mu (`skater_mu(skaters, goalies, slate_games, slate)`).

Every version returns the same columns, so the snapshot prices them alike and the evidence
scores them side by side. The names are declared in `core.models` (settings validate
MODEL_CHALLENGERS against them); this maps them to code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import MappingProxyType

import pandas as pd

from helpers.core.models import CHALLENGER_MODELS, PRODUCTION_MODEL
from helpers.model import eb, features

MuEstimator = Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame, date], pd.DataFrame]

ESTIMATORS: Mapping[str, MuEstimator] = MappingProxyType({
    features.MODEL_VERSION: features.skater_mu,
    eb.MODEL_VERSION: eb.skater_mu,
})

if set(ESTIMATORS) != {PRODUCTION_MODEL, *CHALLENGER_MODELS}:
    raise ImportError(f"model versions {sorted(ESTIMATORS)} differ from core.models "
                      f"{sorted({PRODUCTION_MODEL, *CHALLENGER_MODELS})}")
