"""A round's numbers: scores from the frozen inputs plus the counted ratings, and rater agreement.

Both the API (``GET /api/v1/rounds/{id}/scores``) and ``dtscope score --round ID`` call
:func:`score_round`, so they give the same numbers; an approved round's scores are stored at approval
and :func:`score_round` on the same frozen inputs reproduces them bit for bit (the tests check it).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from evaluation.assessment import agreement
from evaluation.assessment.scheme import Scheme
from service.rounds.inputs import Inputs, as_json_value

SCORE_COLUMNS = (
    "scenario_id", "region", "period", "scheme", "total", "grade", "grade_id", "rank", "rank_lo", "rank_hi",
    "benchmark", "missing_weight", "status",
)
SEED = 0


@dataclass(frozen=True)
class Rating:
    evaluator: str
    scenario_id: str
    indicator_id: str
    score: float


def judged_values(scheme: Scheme, ratings: Iterable[Rating]) -> pl.DataFrame:
    """One value per scenario × judged indicator (the indicator's ``combine`` rule) with its standard error.

    Returns:
        ``scenario_id, indicator_id, value, std_error, n_raters`` (``std_error`` null for one rater).
    """
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in ratings:
        if r.indicator_id in scheme.judged_ids:
            cells[(r.scenario_id, r.indicator_id)].append(r.score)
    rows = []
    for (sid, ind), scores in sorted(cells.items()):
        rule = scheme.judged(ind)
        value, se = agreement.combine(scores, rule.combine, trim=rule.trim)
        rows.append((sid, ind, value, None if math.isnan(se) else se, len(scores)))
    return pl.DataFrame(
        rows,
        schema={"scenario_id": pl.String, "indicator_id": pl.String, "value": pl.Float64, "std_error": pl.Float64,
                "n_raters": pl.Int64},
        orient="row",
    )


def score_round(scheme: Scheme, inputs: Inputs, period: str, ratings: Iterable[Rating]) -> list[dict[str, Any]]:
    """Score the round's scenarios with the engine (``pipelines.steps.score.score_scenarios``).

    Returns:
        One JSON-safe dict per scenario with :data:`SCORE_COLUMNS` plus ``dim_<dimension>`` and the grade
        probabilities, sorted by scenario id.
    """
    from pipelines.steps.score import score_scenarios

    result = score_scenarios(
        inputs.scenarios,
        inputs.scenario_metrics,
        inputs.street_outcomes,
        scheme,
        period=period,
        n_draws=scheme.spec.uncertainty.n_draws,
        seed=SEED,
        judged=judged_values(scheme, ratings),
    )
    extra = [c for c in result.scores.columns if c.startswith(("dim_", "p_grade_"))]
    frame = result.scores.select(*SCORE_COLUMNS, *extra).sort("scenario_id")
    return [{k: as_json_value(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def scores_digest(scores: list[dict[str, Any]]) -> str:
    """SHA-256 of the scores' canonical JSON (floats written exactly, keys sorted)."""
    return hashlib.sha256(canonical_json(scores).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False, separators=(",", ":"))


def agreement_report(scheme: Scheme, ratings: Iterable[Rating], scenarios: list[str]) -> list[dict[str, Any]]:
    """Per judged indicator: raters, ICC(2,1), ICC(2,k), Kendall's W over the scenarios every rater scored,
    and the flagged cells (spread above the indicator's ``max_spread``).
    """
    by_ind: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    for r in ratings:
        by_ind[r.indicator_id][(r.scenario_id, r.evaluator)] = r.score
    out = []
    for ind in scheme.judged_ids:
        rule = scheme.judged(ind)
        cells = by_ind.get(ind, {})
        raters = sorted({e for _, e in cells})
        complete = [s for s in scenarios if all((s, e) in cells for e in raters)]
        stats: dict[str, float | None] = {"icc_2_1": None, "icc_2_k": None, "kendall_w": None}
        if len(raters) >= 2 and len(complete) >= 2:
            y = np.array([[cells[(s, e)] for e in raters] for s in complete])
            stats = {
                "icc_2_1": as_json_value(agreement.icc(y, average=False)),
                "icc_2_k": as_json_value(agreement.icc(y)),
                "kendall_w": as_json_value(agreement.kendall_w(y)),
            }
        flagged = []
        for s in scenarios:
            scores = [cells[(s, e)] for e in raters if (s, e) in cells]
            if len(scores) >= 2 and agreement.spread(scores) > rule.spread_limit:
                flagged.append({"scenario_id": s, "spread": agreement.spread(scores), "ratings": scores})
        out.append(
            {
                "indicator_id": ind,
                "scale": rule.scale,
                "raters": raters,
                "n_scenarios": len(complete),
                **stats,
                "max_spread": rule.spread_limit,
                "flagged": flagged,
            }
        )
    return out
