"""Score a whole scheme: period values → normalised matrix → weights → totals, grades, ranks, uncertainty.

Input is a long frame of per-period indicator values (``scenario_id, indicator_id, value`` and
optionally ``std_error``) plus each scenario's ``region``; :func:`period_values` builds it from the
monthly ``scenario_metrics`` table. Output is an :class:`Assessment` of polars frames:

* ``scores`` — one row per scenario: ``scenario_id, region, period, scheme, dim_<dimension>…,
  total, grade, grade_id, rank, rank_lo, rank_hi, rank_median, p_grade_<grade id>…, benchmark,
  missing_indicators, missing_weight, status (scored | excluded | no_data), loo_reversals
  (pairs whose order flips when this scenario is left out), vikor_compromise`` (VIKOR only);
* ``explanations`` — one row per scenario and indicator: ``raw_value``, ``normalised`` score (0–scale),
  effective weight and contribution (contributions add up to the WSM total);
* ``sensitivity`` — one-at-a-time tornado on the top-level dimension weights (each ±``delta``
  relative, the other dimensions rescaled): ``scheme, dimension, delta, scenario_id, rank,
  rank_change`` (rank change against the unperturbed rank; positive = worse);
* ``indicator_sensitivity`` — the same per indicator weight, with totals and ranks for −/+;
* ``acceptability`` — probability of holding rank 1 … 5 per scenario.

Missing indicators: a scenario missing some indicators is scored on the rest with its weights
renormalised and the missing ids listed in ``missing_indicators``; it is **excluded** (status
``excluded``, no total) if a ``required`` indicator is missing, if the scheme's policy is ``exclude``,
or if the missing weight exceeds ``missing.max_missing_weight``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.special import ndtr

from evaluation import tables
from evaluation.assessment.aggregate import rank_desc, vikor_normalized
from evaluation.assessment.scheme import Scheme
from evaluation.assessment.uncertainty import (
    RankUncertainty,
    grade_of,
    group_totals,
    monte_carlo_ranks,
    rank_reversal,
    weight_tornado,
)
from evaluation.assessment.weights import combine_weights, critic_weights, entropy_weights

log = logging.getLogger(__name__)
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Assessment:
    """The frames produced by :func:`score_scheme` (see the module docstring for their columns)."""

    scores: pl.DataFrame
    explanations: pl.DataFrame
    sensitivity: pl.DataFrame
    indicator_sensitivity: pl.DataFrame
    acceptability: pl.DataFrame
    weights: pl.DataFrame


def parse_period(period: str) -> tuple[date, date]:
    """First and last day covered by ``"YYYY"`` or ``"YYYY-MM"``.

    >>> parse_period("2023"), parse_period("2024-02")[1]
    ((datetime.date(2023, 1, 1), datetime.date(2023, 12, 31)), datetime.date(2024, 2, 29))
    """
    parts = period.strip().split("-")
    try:
        if len(parts) == 1 and len(parts[0]) == 4:
            y = int(parts[0])
            return date(y, 1, 1), date(y, 12, 31)
        if len(parts) == 2 and len(parts[0]) == 4:
            y, m = int(parts[0]), int(parts[1])
            nxt = date(y + (m == 12), m % 12 + 1, 1)
            return date(y, m, 1), date.fromordinal(nxt.toordinal() - 1)
    except ValueError:
        pass
    raise ValueError(f"period {period!r} must be a year like '2023' or a month like '2023-06'")


def period_values(scenario_metrics: pl.DataFrame, scheme: Scheme, period: str) -> pl.DataFrame:
    """Aggregate monthly metrics to one value per scenario and indicator for ``period``.

    Each indicator's ``period_agg`` (mean, sum, last, max) decides how the months combine.

    Args:
        scenario_metrics: ``scenario_id, period (Date), indicator_id, value (Float64)``.
        scheme: gives the indicators and their aggregation rules (other ids are ignored).
        period: ``"YYYY"`` or ``"YYYY-MM"``.

    Returns:
        ``scenario_id, indicator_id, value, n_months``.
    """
    start, end = parse_period(period)
    rules = {i: s.period_agg for i, s in scheme.spec.indicators.items() if s.source == "metrics"}
    inside = scenario_metrics.filter(
        pl.col("period").is_between(start, end)
        & pl.col("indicator_id").is_in(list(rules))
        & pl.col("value").is_not_null()
    ).sort("period")
    agg = pl.col("indicator_id").replace_strict(rules, return_dtype=pl.String)
    out = (
        inside.with_columns(rule=agg)
        .group_by(["scenario_id", "indicator_id", "rule"])
        .agg(
            mean=pl.col("value").mean(),
            sum=pl.col("value").sum(),
            last=pl.col("value").last(),
            max=pl.col("value").max(),
            n_months=pl.len(),
        )
    )
    return out.select(
        "scenario_id",
        "indicator_id",
        value=pl.when(pl.col("rule") == "sum")
        .then("sum")
        .when(pl.col("rule") == "last")
        .then("last")
        .when(pl.col("rule") == "max")
        .then("max")
        .otherwise("mean"),
        n_months=pl.col("n_months").cast(pl.Int64),
    ).sort(["scenario_id", "indicator_id"])


def normalize_stack(x: NDArray[np.floating], scheme: Scheme, groups: NDArray[np.int64]) -> FloatArray:
    """Normalise a stack of decision matrices column by column as the scheme says, NaN-aware.

    Relative methods (min-max, vector, sum, z-score) use only the rows of the same group (the rank
    scope) and only their non-missing values; threshold scoring is absolute. Results lie in [0, 1]
    (z-scores through the normal CDF, vector and sum results clipped); NaN stays NaN.

    Args:
        x: ``(k, n, m)`` raw values (k draws of an ``n × m`` matrix), columns in ``scheme.indicator_ids``.
        scheme: the scheme.
        groups: ``n`` group codes.

    Returns:
        ``(k, n, m)`` array.
    """
    out = np.full(x.shape, np.nan)
    for j, ind in enumerate(scheme.indicator_ids):
        spec = scheme.spec.indicators[ind]
        col = x[:, :, j]
        if spec.normalization == "threshold":
            assert spec.floor is not None and spec.target is not None
            out[:, :, j] = np.clip((col - spec.floor) / (spec.target - spec.floor), 0.0, 1.0)
            continue
        cost = spec.direction == "cost"
        for g in np.unique(groups):
            rows = groups == g
            c = col[:, rows]
            fin = np.isfinite(c)
            if not fin.any():
                continue
            with np.errstate(all="ignore"):
                if spec.normalization == "minmax":
                    lo = np.nanmin(np.where(fin, c, np.inf), axis=1, keepdims=True)
                    hi = np.nanmax(np.where(fin, c, -np.inf), axis=1, keepdims=True)
                    span = hi - lo
                    r = np.where(span > 0, (c - lo) / np.where(span > 0, span, 1.0), 1.0)
                    r = np.where(span > 0, 1.0 - r, 1.0) if cost else r
                elif spec.normalization == "vector":
                    norm = np.sqrt(np.nansum(c * c, axis=1, keepdims=True))
                    r = c / np.where(norm > 0, norm, 1.0)
                    r = 1.0 - r if cost else r
                elif spec.normalization == "sum":
                    if np.any(c[fin] < 0) or (cost and np.any(c[fin] == 0)):
                        raise scheme.error(
                            f"indicators.{ind}.normalization",
                            "sum normalisation needs positive values; use minmax or threshold for this indicator",
                        )
                    base = 1.0 / c if cost else c
                    total = np.nansum(base, axis=1, keepdims=True)
                    r = base / np.where(total > 0, total, 1.0)
                else:  # zscore
                    n_fin = fin.sum(axis=1, keepdims=True)
                    mean = np.nanmean(c, axis=1, keepdims=True)
                    sd = np.sqrt(np.nansum((c - mean) ** 2, axis=1, keepdims=True) / np.maximum(n_fin - 1, 1))
                    spread = np.nanmax(np.where(fin, c, -np.inf), axis=1, keepdims=True) > np.nanmin(
                        np.where(fin, c, np.inf), axis=1, keepdims=True
                    )
                    live = spread & (sd > 0)
                    z = np.where(live, (c - mean) / np.where(live, sd, 1.0), 0.0)
                    r = ndtr(-z if cost else z)
            out[:, rows, j] = np.where(fin, np.clip(r, 0.0, 1.0), np.nan)
    return out


def scheme_weights(scheme: Scheme, normalized: FloatArray, raw: FloatArray) -> FloatArray:
    """Global indicator weights for the scheme's weighting method.

    Objective weights (entropy, CRITIC) use the rows with every indicator present; with fewer than
    two such rows they fall back to the subjective weights (logged).

    Args:
        scheme: the scheme.
        normalized: ``(n, m)`` normalised matrix of the scored scenarios.
        raw: ``(n, m)`` raw matrix (CRITIC with ``critic_cost: ignore`` uses it).

    Returns:
        ``m`` weights summing to 1, in ``scheme.indicator_ids`` order.
    """
    wt = scheme.spec.weighting
    subjective = scheme.subjective_weights()
    if wt.method in ("fixed", "ahp"):
        return subjective
    complete = np.isfinite(normalized).all(axis=1)
    objective_name = wt.method if wt.method in ("entropy", "critic") else wt.objective
    if complete.sum() < 2:
        log.warning(
            "scheme %s: fewer than two complete rows, objective weights fall back to the tree's", scheme.label
        )
        objective = subjective
    elif objective_name == "entropy":
        objective = entropy_weights(normalized[complete])
    elif wt.critic_cost == "ignore":
        objective = critic_weights(raw[complete], None)
    else:
        objective = critic_weights(normalized[complete], None)
    if wt.method in ("entropy", "critic"):
        return objective
    return combine_weights(subjective, objective, method=wt.combine, alpha=wt.alpha)


def _totals(r: FloatArray, w: FloatArray, groups: NDArray[np.int64], scheme: Scheme) -> FloatArray:
    agg = scheme.spec.aggregation
    out = np.empty(r.shape[0])
    for g in np.unique(groups):
        rows = groups == g
        out[rows] = group_totals(agg.method, r[rows], w, agg.vikor_v)
    return out * scheme.spec.scale


def _vikor_compromise(r: FloatArray, w: FloatArray, groups: NDArray[np.int64], v: float) -> NDArray[np.bool_]:
    """Membership of each row in its group's VIKOR compromise set (missing cells filled by column means)."""
    out = np.zeros(r.shape[0], dtype=bool)
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        sub = r[rows]
        fin = np.isfinite(sub)
        means = np.array([sub[fin[:, j], j].mean() if fin[:, j].any() else 0.0 for j in range(sub.shape[1])])
        res = vikor_normalized(np.where(fin, sub, means), w, v)
        out[rows[list(res.compromise)]] = True
    return out


def _ranks(totals: FloatArray, groups: NDArray[np.int64]) -> FloatArray:
    out = np.empty(totals.size)
    for g in np.unique(groups):
        rows = groups == g
        out[rows] = rank_desc(totals[rows])
    return out


def _measurement_sd(scheme: Scheme, x: FloatArray, se: FloatArray) -> FloatArray:
    default_cv = scheme.spec.uncertainty.measurement_cv
    cv = np.array(
        [
            default_cv
            if scheme.spec.indicators[i].measurement_cv is None
            else scheme.spec.indicators[i].measurement_cv
            for i in scheme.indicator_ids
        ]
    )
    sd = np.abs(x) * cv
    return np.where(np.isfinite(se), se, sd)


def score_scheme(
    values: pl.DataFrame,
    regions: pl.DataFrame,
    scheme: Scheme,
    *,
    period: str,
    n_draws: int | None = None,
    seed: int = 0,
    significant: dict[str, bool] | None = None,
    top_k: int = 5,
    known_indicators: set[str] | None = None,
) -> Assessment:
    """Score every scenario with a scheme.

    Args:
        values: ``scenario_id, indicator_id, value`` (+ optional ``std_error``): one value per scenario
            and indicator for the period (metrics aggregated and the efficacy indicator appended).
        regions: ``scenario_id, region`` for every scenario to score (a scenario with no values
            gets ``status = "no_data"``).
        scheme: the validated scheme.
        period: label written into the ``period`` column (e.g. ``"2023"``).
        n_draws: Monte-Carlo draws (default: the scheme's ``uncertainty.n_draws``).
        seed: random seed.
        significant: scenario_id → whether its measured effect is a significant improvement (the
            benchmark rule may require it).
        top_k: ranks reported in ``acceptability``.
        known_indicators: every indicator id the metrics table holds in any period (default: the ids
            in ``values``); a scheme indicator outside it is reported as unknown.

    Returns:
        :class:`Assessment`.

    Raises:
        SchemeError: a scheme indicator of source ``metrics`` has no value for any scenario (an unknown
            indicator id), naming the scheme file and key.
    """
    ids = list(scheme.indicator_ids)
    _check_indicators_known(scheme, values, known_indicators)
    mat = _value_matrix(values, regions, ids)
    elig = _eligibility(scheme, mat.x)
    kidx = np.flatnonzero(elig.keep)
    scope = (
        mat.region_codes if scheme.spec.rank_scope == "region" else np.zeros(len(mat.sids), dtype=np.int64)
    )
    xk, gk = mat.x[kidx], scope[kidx]
    kept_sids = [mat.sids[i] for i in kidx]

    if kidx.size:
        r = normalize_stack(xk[None], scheme, gk)[0]
        w = scheme_weights(scheme, r, xk)
        totals = _totals(r, w, gk, scheme)
        ranks = _ranks(totals, gk)
        unc = _rank_uncertainty(
            scheme, xk, mat.se[kidx], r=r, w=w, gk=gk, n_draws=n_draws, seed=seed, top_k=top_k
        )
    else:
        r, w, totals, ranks, unc = np.empty((0, len(ids))), elig.w_tree, np.empty(0), np.empty(0), None
    kept = _KeptScores(
        kidx=kidx,
        totals=totals,
        ranks=ranks,
        unc=unc,
        dims=_dimension_scores(scheme, r, w),
        loo=_leave_one_out_reversals(scheme, xk, w, gk),
        compromise=(
            _vikor_compromise(r, w, gk, scheme.spec.aggregation.vikor_v)
            if scheme.spec.aggregation.method == "vikor" and kidx.size
            else None
        ),
    )
    scores = _scores_frame(scheme, mat, elig, kept, period=period, significant=significant or {})
    return Assessment(
        scores,
        _explanations(scheme, period=period, sids=kept_sids, x=xk, r=r, w=w),
        _dimension_sensitivity(scheme, sids=kept_sids, r=r, w=w, groups=gk, base=ranks),
        _sensitivity(scheme, sids=kept_sids, r=r, w=w, groups=gk),
        _acceptability(kept_sids, unc),
        pl.DataFrame(
            {
                "indicator_id": ids,
                "dimension": [scheme.top_of[i] for i in ids],
                "weight_tree": elig.w_tree,
                "weight": w,
            },
            schema=tables.dtypes(tables.Weights),
        ),
    )


def _check_indicators_known(scheme: Scheme, values: pl.DataFrame, known_indicators: set[str] | None) -> None:
    """Refuse a ``metrics`` indicator no scenario metric has (an unknown id), naming the scheme key."""
    present = set(values["indicator_id"].unique().to_list())
    known = present if known_indicators is None else set(known_indicators) | present
    for ind in scheme.indicator_ids:
        if scheme.spec.indicators[ind].source == "metrics" and ind not in known:
            raise scheme.error(
                f"indicators.{ind}",
                f"unknown indicator: no scenario metric has indicator_id {ind!r} "
                f"(known ids: {sorted(known)}); fix the id or remove it from the scheme",
            )
    ignored = sorted(present - set(scheme.indicator_ids))
    if ignored:
        log.info("scheme %s ignores indicators %s", scheme.label, ignored)


@dataclass(frozen=True)
class _ValueMatrix:
    """Scenarios (sorted by region, id) × the scheme's indicators; NaN where a value is missing."""

    sids: list[str]
    regions: list[str]
    region_codes: NDArray[np.int64]
    x: FloatArray
    se: FloatArray


def _value_matrix(values: pl.DataFrame, regions: pl.DataFrame, ids: list[str]) -> _ValueMatrix:
    meta = (
        regions.select("scenario_id", "region")
        .unique(subset="scenario_id", keep="first")
        .sort(["region", "scenario_id"])
    )
    sids = meta["scenario_id"].to_list()
    pos = {s: i for i, s in enumerate(sids)}
    col = {i: j for j, i in enumerate(ids)}
    x = np.full((len(sids), len(ids)), np.nan)
    se = np.full((len(sids), len(ids)), np.nan)
    has_se = "std_error" in values.columns
    rows = values.filter(pl.col("indicator_id").is_in(ids) & pl.col("scenario_id").is_in(sids))
    for row in rows.iter_rows(named=True):
        if row["value"] is None or not math.isfinite(row["value"]):
            continue
        i, j = pos[row["scenario_id"]], col[row["indicator_id"]]
        x[i, j] = row["value"]
        if has_se and row["std_error"] is not None:
            se[i, j] = row["std_error"]
    region_codes = np.unique(meta["region"].to_numpy(), return_inverse=True)[1]
    return _ValueMatrix(sids, meta["region"].to_list(), region_codes, x, se)


@dataclass(frozen=True)
class _Eligibility:
    """Which scenarios are scored, excluded (a required or too much weight missing) or have no data."""

    w_tree: FloatArray
    missing: NDArray[np.bool_]
    missing_weight: FloatArray
    no_data: NDArray[np.bool_]
    excluded: NDArray[np.bool_]

    @property
    def keep(self) -> NDArray[np.bool_]:
        return ~(self.no_data | self.excluded)


def _eligibility(scheme: Scheme, x: FloatArray) -> _Eligibility:
    spec = scheme.spec
    w_tree = scheme.subjective_weights()
    missing = ~np.isfinite(x)
    missing_weight = (missing * w_tree).sum(axis=1)
    required = np.array([spec.indicators[i].required for i in scheme.indicator_ids])
    no_data = np.asarray(missing.all(axis=1), dtype=bool)
    too_much = (
        missing.any(axis=1)
        if spec.missing.policy == "exclude"
        else missing_weight > spec.missing.max_missing_weight + 1e-12
    )
    excluded = ~no_data & ((missing & required).any(axis=1) | too_much)
    return _Eligibility(w_tree, missing, missing_weight, no_data, excluded)


def _rank_uncertainty(
    scheme: Scheme,
    xk: FloatArray,
    sek: FloatArray,
    *,
    r: FloatArray,
    w: FloatArray,
    gk: NDArray[np.int64],
    n_draws: int | None,
    seed: int,
    top_k: int,
) -> RankUncertainty:
    """Monte-Carlo ranks and grade probabilities under weight and measurement uncertainty."""
    spec = scheme.spec
    sd = _measurement_sd(scheme, xk, sek)
    nonneg = np.nanmin(np.where(np.isfinite(xk), xk, np.inf), axis=0) >= 0
    pct = np.array([spec.indicators[i].unit == "%" for i in scheme.indicator_ids]) & (
        np.nanmax(np.where(np.isfinite(xk), xk, -np.inf), axis=0) <= 100
    )

    def measurement(rng: np.random.Generator, k: int) -> FloatArray:
        noisy = xk[None] + rng.standard_normal((k, *xk.shape)) * np.nan_to_num(sd)[None]
        noisy = np.where(nonneg, np.maximum(noisy, 0.0), noisy)
        noisy = np.where(pct, np.minimum(noisy, 100.0), noisy)
        return normalize_stack(noisy, scheme, gk)

    return monte_carlo_ranks(
        r,
        w,
        n_draws=n_draws or spec.uncertainty.n_draws,
        concentration=spec.uncertainty.concentration,
        seed=seed,
        method=spec.aggregation.method,
        vikor_v=spec.aggregation.vikor_v,
        scale=spec.scale,
        cuts=[g.min for g in spec.grades],
        groups=gk,
        interval=spec.uncertainty.interval,
        top_k=top_k,
        measurement=measurement if bool(np.nansum(sd) > 0) else None,
    )


def _dimension_scores(scheme: Scheme, r: FloatArray, w: FloatArray) -> dict[str, FloatArray]:
    """WSM inside each top dimension over the available indicators, on the scheme's scale."""
    col = {i: j for j, i in enumerate(scheme.indicator_ids)}
    out: dict[str, FloatArray] = {}
    for d in scheme.top_dimensions:
        cols = np.array([col[i] for i in scheme.leaves_under(d)])
        rr, ww = r[:, cols], w[cols]
        avail = np.isfinite(rr)
        mass = (avail * ww).sum(axis=1)
        num = (np.where(avail, rr, 0.0) * ww).sum(axis=1)
        out[d] = np.where(mass > 0, num / np.where(mass > 0, mass, 1.0), np.nan) * scheme.spec.scale
    return out


def _leave_one_out_reversals(
    scheme: Scheme, xk: FloatArray, w: FloatArray, gk: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Per scored scenario: pairs whose order flips when it is left out of its scoring group."""
    agg = scheme.spec.aggregation
    loo = np.zeros(xk.shape[0], dtype=np.int64)
    for g in np.unique(gk):
        rows = np.flatnonzero(gk == g)
        if rows.size < 3:
            continue
        sub_x = xk[rows]

        def total_fn(kept: NDArray[np.intp], sub_x: FloatArray = sub_x) -> FloatArray:
            rr_ = normalize_stack(sub_x[kept][None], scheme, np.zeros(kept.size, dtype=np.int64))[0]
            return group_totals(agg.method, rr_, w, agg.vikor_v)

        loo[rows] = rank_reversal(total_fn, rows.size)
    return loo


@dataclass(frozen=True)
class _KeptScores:
    """What was computed for the scored scenarios (row ``k`` = scenario ``kidx[k]``)."""

    kidx: NDArray[np.intp]
    totals: FloatArray
    ranks: FloatArray
    unc: RankUncertainty | None
    dims: dict[str, FloatArray]
    loo: NDArray[np.int64]
    compromise: NDArray[np.bool_] | None


def _is_benchmark(
    scheme: Scheme, grade_index: int, p_grade: FloatArray, *, significant: bool, missing: bool
) -> bool:
    """The scheme's 标杆 rule: grade, its probability, a significant effect and completeness as required."""
    bm = scheme.spec.benchmark
    min_g = [g.id for g in scheme.spec.grades].index(bm.min_grade)
    return (
        grade_index <= min_g
        and float(p_grade[: min_g + 1].sum()) >= bm.min_probability
        and (not bm.require_significant_effect or significant)
        and (bm.allow_missing or not missing)
    )


def _scores_frame(
    scheme: Scheme,
    mat: _ValueMatrix,
    elig: _Eligibility,
    kept: _KeptScores,
    *,
    period: str,
    significant: dict[str, bool],
) -> pl.DataFrame:
    spec = scheme.spec
    ids = scheme.indicator_ids
    grade_idx = grade_of(kept.totals, [g.min for g in spec.grades])
    rows_out = []
    for i, sid in enumerate(mat.sids):
        base: dict[str, object] = {
            "scenario_id": sid,
            "region": mat.regions[i],
            "period": period,
            "scheme": scheme.label,
            "missing_indicators": ",".join(ind for j, ind in enumerate(ids) if elig.missing[i, j]),
            "missing_weight": float(elig.missing_weight[i]),
        }
        if not elig.keep[i]:
            base["status"] = "no_data" if elig.no_data[i] else "excluded"
            rows_out.append(base)
            continue
        k = int(np.searchsorted(kept.kidx, i))
        gi = int(grade_idx[k])
        unc = kept.unc
        assert unc is not None
        base.update({f"dim_{d}": float(kept.dims[d][k]) for d in scheme.top_dimensions})
        base.update(
            {
                "total": float(kept.totals[k]),
                "grade": spec.grades[gi].label_zh,
                "grade_id": spec.grades[gi].id,
                "rank": float(kept.ranks[k]),
                "rank_lo": float(unc.rank_lo[k]),
                "rank_hi": float(unc.rank_hi[k]),
                "rank_median": float(unc.rank_median[k]),
                **{f"p_grade_{g.id}": float(unc.p_grade[k, j]) for j, g in enumerate(spec.grades)},
                "benchmark": _is_benchmark(
                    scheme,
                    gi,
                    unc.p_grade[k],
                    significant=significant.get(sid, False),
                    missing=bool(elig.missing[i].any()),
                ),
                "status": "scored",
                "loo_reversals": int(kept.loo[k]),
                "vikor_compromise": None if kept.compromise is None else bool(kept.compromise[k]),
            }
        )
        rows_out.append(base)
    return pl.DataFrame(rows_out, schema=_scores_schema(scheme)).with_columns(
        pl.col("benchmark").fill_null(False)
    )


def _scores_schema(scheme: Scheme) -> dict[str, tables.Dtype]:
    """:class:`evaluation.tables.Scores` with this scheme's ``dim_*`` columns (after ``scheme``) and grades."""
    out: dict[str, tables.Dtype] = {}
    for column, dtype in tables.dtypes(tables.Scores).items():
        if column.startswith("p_grade_"):
            out |= {f"p_grade_{g.id}": pl.Float64 for g in scheme.spec.grades}
            continue
        out[column] = dtype
        if column == "scheme":
            out |= {f"{tables.DIMENSION_PREFIX}{d}": pl.Float64 for d in scheme.top_dimensions}
    return out


def _acceptability(sids: list[str], unc: RankUncertainty | None) -> pl.DataFrame:
    """Probability of holding each of the first ranks, per scored scenario."""
    rows = (
        [
            {"scenario_id": sid, "rank": j + 1, "probability": float(unc.acceptability[k, j])}
            for k, sid in enumerate(sids)
            for j in range(unc.acceptability.shape[1])
        ]
        if unc is not None
        else []
    )
    return pl.DataFrame(rows, schema=tables.dtypes(tables.Acceptability))


def _explanations(
    scheme: Scheme, *, period: str, sids: Sequence[str], x: FloatArray, r: FloatArray, w: FloatArray
) -> pl.DataFrame:
    """Per scenario and indicator: value, normalised score, effective weight and contribution."""
    avail = np.isfinite(r)
    mass = (avail * w).sum(axis=1, keepdims=True)
    eff_w = np.where(avail, w / np.where(mass > 0, mass, 1.0), 0.0)
    scale = scheme.spec.scale
    contrib = np.where(avail, r, 0.0) * eff_w * scale
    rows = []
    for k, sid in enumerate(sids):
        for j, ind in enumerate(scheme.indicator_ids):
            rows.append(
                {
                    "scenario_id": sid,
                    "period": period,
                    "scheme": scheme.label,
                    "dimension": scheme.top_of[ind],
                    "indicator_id": ind,
                    "name_zh": scheme.spec.indicators[ind].name_zh,
                    "raw_value": None if not np.isfinite(x[k, j]) else float(x[k, j]),
                    "normalised": None if not avail[k, j] else float(r[k, j] * scale),
                    "weight": float(w[j]),
                    "effective_weight": float(eff_w[k, j]),
                    "contribution": float(contrib[k, j]),
                    "missing": bool(not avail[k, j]),
                }
            )
    return pl.DataFrame(rows, schema=tables.dtypes(tables.Explanations))


def _dimension_weights(scheme: Scheme, w: FloatArray, dim: str, delta: float) -> FloatArray:
    """Indicator weights after moving dimension ``dim``'s total weight by ``(1 + delta)``, others rescaled.

    >>> from evaluation.assessment.scheme import load_scheme
    >>> s = load_scheme()
    >>> moved = _dimension_weights(s, s.subjective_weights(), "effect", 0.2)
    >>> round(float(moved.sum()), 9), round(float(moved[[s.indicator_ids.index(i) for i in s.leaves_under("effect")]].sum()), 3)
    (1.0, 0.3)
    """
    inside = np.array([scheme.top_of[i] == dim for i in scheme.indicator_ids])
    mass = float(w[inside].sum())
    new_mass = min(max(mass * (1 + delta), 0.0), 1.0)
    out = w.copy()
    if mass > 0:
        out[inside] = w[inside] * (new_mass / mass)
    rest = 1.0 - mass
    if rest > 0:
        out[~inside] = w[~inside] * ((1.0 - new_mass) / rest)
    return out / out.sum()


def _dimension_sensitivity(
    scheme: Scheme,
    *,
    sids: Sequence[str],
    r: FloatArray,
    w: FloatArray,
    groups: NDArray[np.int64],
    base: FloatArray,
    deltas: tuple[float, ...] = (-0.2, 0.2),
) -> pl.DataFrame:
    """Rank of every scenario when one top-level dimension's weight moves by each ``delta``."""
    rows: list[dict[str, object]] = []
    for dim in scheme.top_dimensions:
        for delta in deltas:
            moved = _dimension_weights(scheme, w, dim, delta)
            ranks = _ranks(_totals(r, moved, groups, scheme), groups) if len(sids) else np.empty(0)
            rows += [
                {
                    "scheme": scheme.label,
                    "dimension": dim,
                    "delta": delta,
                    "scenario_id": sid,
                    "rank": float(ranks[k]),
                    "rank_change": float(ranks[k] - base[k]),
                }
                for k, sid in enumerate(sids)
            ]
    return pl.DataFrame(rows, schema=tables.dtypes(tables.Sensitivity))


def _sensitivity(
    scheme: Scheme,
    *,
    sids: Sequence[str],
    r: FloatArray,
    w: FloatArray,
    groups: NDArray[np.int64],
    delta: float = 0.2,
) -> pl.DataFrame:
    """One-at-a-time weight tornado: each weight ±``delta`` (relative), totals and ranks per scenario."""
    schema = {
        "scenario_id": pl.String,
        "indicator_id": pl.String,
        "weight": pl.Float64,
        "total_minus": pl.Float64,
        "total_plus": pl.Float64,
        "rank_minus": pl.Float64,
        "rank_plus": pl.Float64,
    }
    if not sids:
        return pl.DataFrame(schema=schema)
    totals = np.empty((len(w), 2, len(sids)))
    ranks = np.empty_like(totals)
    for g in np.unique(groups):
        rows = groups == g

        def fn(wv: FloatArray, rows: NDArray[np.bool_] = rows) -> FloatArray:
            return group_totals(scheme.spec.aggregation.method, r[rows], wv, scheme.spec.aggregation.vikor_v)

        t, rk = weight_tornado(fn, w, delta=delta)
        totals[:, :, rows] = t * scheme.spec.scale
        ranks[:, :, rows] = rk
    return pl.DataFrame(
        {
            "scenario_id": [s for _ in scheme.indicator_ids for s in sids],
            "indicator_id": [i for i in scheme.indicator_ids for _ in sids],
            "weight": np.repeat(w, len(sids)),
            "total_minus": totals[:, 0, :].ravel(),
            "total_plus": totals[:, 1, :].ravel(),
            "rank_minus": ranks[:, 0, :].ravel(),
            "rank_plus": ranks[:, 1, :].ravel(),
        },
        schema=schema,
    )
