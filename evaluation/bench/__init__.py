"""Benchmarks (run as modules, e.g. ``python -m evaluation.bench.forecast``); peers live in the ``bench`` extra.

``assessment`` (scoring vs pymcdm, efficacy interval coverage), ``forecast`` (M3 yearly vs statsforecast),
``heldout`` (M1 and Tourism yearly, reporting only), ``panels`` (the product's own demo panels), ``reference``
(builds the shipped calibration references from M3 training windows).
"""

__all__ = ["assessment", "forecast", "heldout", "panels", "reference"]
