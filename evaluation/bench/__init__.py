"""Benchmarks (run as modules, e.g. ``python -m evaluation.bench.forecast``); peers live in the ``bench`` extra."""
