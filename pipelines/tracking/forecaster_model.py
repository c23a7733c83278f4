"""The ``kpi-forecaster`` MLflow pyfunc, logged as models-from-code (MLflow 3's recommended way).

The model is a *configuration*: the champion settings registered with the run. ``predict`` takes the
``dtscope forecast-file`` input (``series_id, period, value``) and returns its output (``series_id, period,
mean, q0.025 … q0.975, model``) computed with those settings; ``params`` may set ``horizon`` and ``kind``.
Loading it needs dtscope installed (it is the pip requirement logged with the model).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import polars as pl
from mlflow.pyfunc import PythonModel


class KpiForecaster(PythonModel):
    """Forecast any long table with the registered champion configuration."""

    def load_context(self, context: Any) -> None:
        config = json.loads(context.model_config["config_json"])
        self.champion_settings_: dict[str, Any] = config.get("champion", {})

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        from models.champion import ChampionConfig
        from pipelines.steps.forecast_files import forecast_file

        horizon = int((params or {}).get("horizon", 3))
        kind = str((params or {}).get("kind", "auto"))
        config = ChampionConfig.model_validate(self.champion_settings_)
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
            pl.from_pandas(model_input[["series_id", "period", "value"]]).write_csv(src)
            frame = forecast_file(src, dst, horizon=horizon, kind=kind, config=config)
        return frame.to_pandas()


mlflow.models.set_model(KpiForecaster())
