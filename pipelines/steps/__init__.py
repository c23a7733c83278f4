"""The steps of the pipeline: plain functions on polars frames (no MLflow, no paths of their own).

- :mod:`~pipelines.steps.ingest` — validation against the registry → accepted rows + rejects;
- :mod:`~pipelines.steps.uploads` — the one server-side path that validates and stores an uploaded file;
- :mod:`~pipelines.steps.score` — scenario scores, grades, ranks and efficacy;
- :mod:`~pipelines.steps.series` — annual series per KPI × region from observations;
- :mod:`~pipelines.steps.forecast` — every KPI × region forecast and its attainment;
- :mod:`~pipelines.steps.forecast_files` — the ``forecast-file`` / ``attain`` file contracts;
- :mod:`~pipelines.steps.publish` — the published set, swapped in atomically.
"""

__all__ = ["forecast", "forecast_files", "ingest", "publish", "score", "series", "uploads"]
