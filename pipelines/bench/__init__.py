"""Pipeline benchmarks: ``python -m pipelines.bench`` (a run's steps per executor), ``pipelines.bench.ingest``
(memory and time of ingest, compression bombs) and ``pipelines.bench.scale`` (many series, several executors)."""

__all__ = ["ingest", "scale"]
