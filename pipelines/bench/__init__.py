"""Pipeline benchmarks (``python -m pipelines.bench``)."""
