"""The ``scenario-scheme`` MLflow pyfunc (models-from-code): an assessment scheme as a versioned model.

The model's artifact is the scheme YAML. ``predict`` takes a frame with an ``indicator_id`` column and returns,
per indicator, its top-level dimension, direction and local weight as the scheme states them (objective
weights such as entropy are decided from the data at scoring time and come back empty). Registering the
scheme this way gives it versions and a ``production`` alias like the forecaster, so every score can be traced
to the exact scheme that produced it.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class SchemeModel(PythonModel):
    """Look up indicators in a registered assessment scheme."""

    def load_context(self, context: Any) -> None:
        from evaluation.assessment.scheme import load_scheme

        self.scheme_ = load_scheme(context.artifacts["scheme"])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        scheme = self.scheme_
        rows = []
        for indicator in model_input["indicator_id"].astype(str):
            spec = scheme.spec.indicators.get(indicator)
            rows.append(
                {
                    "indicator_id": indicator,
                    "known": spec is not None,
                    "dimension": scheme.top_of.get(indicator, ""),
                    "direction": spec.direction if spec is not None else "",
                    "local_weight": scheme.local_weights.get(indicator),
                    "scheme": scheme.label,
                }
            )
        return pd.DataFrame(rows)


mlflow.models.set_model(SchemeModel())
