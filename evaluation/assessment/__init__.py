"""Scenario assessment: schemes as data, normalisation, weights, aggregation, uncertainty, efficacy.

Modules (pure functions on numpy arrays and polars frames; no file writes, no tracking):

* :mod:`~evaluation.assessment.scheme` — load and validate a scheme YAML (tree of dimensions →
  indicators, weights, grades, benchmark rule); errors name the file and the key;
* :mod:`~evaluation.assessment.normalize` — min-max, vector, sum, z-score and threshold scoring;
* :mod:`~evaluation.assessment.weights` — AHP (eigenvector / geometric mean, consistency ratio,
  expert pooling, incomplete matrices), entropy, CRITIC, combinations;
* :mod:`~evaluation.assessment.aggregate` — WSM, TOPSIS, VIKOR (+ compromise set), average-rank ties;
* :mod:`~evaluation.assessment.uncertainty` — Monte-Carlo rank intervals, grade probabilities,
  rank acceptability; weight tornado; leave-one-out rank reversal;
* :mod:`~evaluation.assessment.efficacy` — ITS and DiD / event-study effects with staggered launches;
* :mod:`~evaluation.assessment.engine` — score a whole scheme: missing data, grades, explanations.

The plain functions whose signatures DESIGN.md fixes live in :mod:`evaluation.scoring`.
"""

__all__ = ["aggregate", "agreement", "efficacy", "engine", "normalize", "pairwise", "scheme", "uncertainty", "weights"]
