"""The only room that imports MLflow.

- :mod:`~pipelines.tracking.tracker` — runs, metrics, artifacts and tags of one pipeline execution;
- :mod:`~pipelines.tracking.model_registry` — the ``kpi-forecaster`` registered model: aliases, promotion;
- :mod:`~pipelines.tracking.forecaster_model` / :mod:`~pipelines.tracking.scheme_model` — the pyfunc wrappers
  that let MLflow load and serve a registered forecaster or assessment scheme.
"""

__all__ = ["forecaster_model", "model_registry", "scheme_model", "tracker"]
