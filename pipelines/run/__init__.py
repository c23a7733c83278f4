"""One ``dtscope run``: the wiring of the steps under MLflow, and the executors that spread the work.

- :mod:`~pipelines.run.pipeline` — ``run_pipeline``: read, score, forecast, track, register, publish;
- :mod:`~pipelines.run.wiring` — each step read from the warehouse, called, tracked;
- :mod:`~pipelines.run.executors` — in process, a process pool or a Dask cluster, with identical results.
"""

__all__ = ["executors", "pipeline", "wiring"]
