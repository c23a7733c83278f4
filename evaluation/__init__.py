"""Evaluation: how well scenarios work and how good forecasts are. Pure functions; no I/O, no MLflow, no Dash.

Rooms:

- :mod:`evaluation.tables` — the one definition of every table between steps and of every published table;
- :mod:`evaluation.likelihood` — the one IPCC likelihood scale (keys, Chinese and English words);
- :mod:`evaluation.scoring` — the plain MCDM functions whose signatures DESIGN.md fixes (TOPSIS, VIKOR, WSM,
  AHP, entropy, CRITIC);
- :mod:`evaluation.assessment` — schemes, normalisation, weights, aggregation, rank uncertainty, efficacy;
- :mod:`evaluation.forecasting` — forecast evaluation: published backtest metrics and target attainment;
- ``evaluation.bench`` — benchmarks against pymcdm and statsforecast (``make bench``).
"""

__all__ = ["assessment", "forecasting", "likelihood", "scoring", "tables"]
