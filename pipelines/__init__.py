"""The pipelines: files in, warehouse, steps, MLflow tracking, published tables out; and the ``dtscope`` CLI.

Rooms:

- :mod:`pipelines.io` — everything that knows a path or a format: files, cells, the warehouse, the KPI registry;
- :mod:`pipelines.steps` — the steps (ingest → score → forecast → publish), plain functions on frames;
- :mod:`pipelines.run` — the wiring of one ``dtscope run`` and the executors that spread it;
- :mod:`pipelines.tracking` — the only room that talks to MLflow;
- :mod:`pipelines.demo` — the seeded SYNTHETIC demo generator (its templates are data under ``data/registry/demo``);
- :mod:`pipelines.cli` — the ``dtscope`` command line, where settings enter once.
"""

__all__ = ["cli", "demo", "io", "run", "settings", "steps", "tracking"]
