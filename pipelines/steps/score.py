"""The score step: scenarios + monthly metrics + street outcomes → scores, efficacy, explanations.

Pure functions on polars frames (no file or database I/O, no tracking); the CLI wires them to the
warehouse. :func:`score_scenarios` runs the causal-efficacy estimates (ITS and DiD, up to the end of the
scoring period), appends the measured improvement as the scheme's ``source: efficacy`` indicator,
scores every scenario with :func:`evaluation.assessment.engine.score_scheme`, and counts the 标杆
(benchmark) scenarios per region as observation rows of the ``efficient_disposal_scenarios`` KPI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import polars as pl

from evaluation.assessment.efficacy import effect_indicator, efficacy_table
from evaluation.assessment.engine import parse_period, period_values, score_scheme
from evaluation.assessment.scheme import Scheme
from pipelines.steps.ingest import LONG_COLUMNS

log = logging.getLogger(__name__)

BENCHMARK_KPI = "efficient_disposal_scenarios"


class MetricsError(ValueError):
    """An input table cannot be scored; the message names the table, the row and the column."""


@dataclass(frozen=True)
class ScoreResult:
    """Everything the score step produces.

    Attributes:
        scores: one row per scenario (see :mod:`evaluation.assessment.engine`).
        efficacy: ``scenario_id, outcome, method (its|did), effect, ci_lo, ci_hi, p_value, n_pre, n_post,
            status`` + ``std_error, n_controls, effect_pct, counterfactual, note``.
        explanations: per scenario and indicator: normalised value × weight = contribution.
        benchmark_observations: long-layout observation rows (all strings) for ``efficient_disposal_scenarios``.
        sensitivity: dimension-weight tornado (``scheme, dimension, delta, scenario_id, rank, rank_change``).
        indicator_sensitivity: the same per indicator weight, with totals.
        acceptability: probability of rank 1 … 5 per scenario.
        event_study: DiD gap by month relative to launch, per scenario.
        efficacy_series: ``scenario_id, outcome, period, observed, fitted, counterfactual, method`` for charts.
        weights: indicator weights used (tree and final).
        period: the period scored.
    """

    scores: pl.DataFrame
    efficacy: pl.DataFrame
    explanations: pl.DataFrame
    benchmark_observations: pl.DataFrame
    sensitivity: pl.DataFrame
    indicator_sensitivity: pl.DataFrame
    acceptability: pl.DataFrame
    event_study: pl.DataFrame
    efficacy_series: pl.DataFrame
    weights: pl.DataFrame
    period: str


def check_numeric(
    frame: pl.DataFrame, *, column: str, what: str, key_columns: tuple[str, ...]
) -> pl.DataFrame:
    """Return ``frame`` with ``column`` as finite Float64, or raise naming the first bad rows.

    Args:
        frame: the table (not modified).
        column: the value column.
        what: table or file name quoted in the error.
        key_columns: columns that identify a row in the message.

    Raises:
        MetricsError: a value that is not a finite number.

    >>> check_numeric(pl.DataFrame({"k": ["a"], "v": ["1.5"]}), column="v", what="t", key_columns=("k",))["v"].to_list()
    [1.5]
    """
    cast = frame.with_columns(pl.col(column).cast(pl.Float64, strict=False).alias("__v"))
    bad = cast.with_row_index("__row", offset=1).filter(pl.col("__v").is_null() | ~pl.col("__v").is_finite())
    if bad.height:
        shown = []
        for row in bad.head(3).iter_rows(named=True):
            keys = ", ".join(f"{k}={row[k]}" for k in key_columns)
            shown.append(f"row {row['__row']} ({keys}): {column} {row[column]!r} is not a finite number")
        raise MetricsError(
            f"{what}: {bad.height} row(s) with a non-numeric {column!r}: "
            + "; ".join(shown)
            + "; fix the source file or drop those rows before scoring"
        )
    return cast.with_columns(pl.col("__v").alias(column)).drop("__v")


def default_period(scenario_metrics: pl.DataFrame) -> str:
    """The latest calendar year with December data (else the latest year) as ``"YYYY"``.

    >>> from datetime import date
    >>> default_period(pl.DataFrame({"period": [date(2023, 12, 1), date(2024, 3, 1)]}))
    '2023'
    """
    if scenario_metrics.height == 0:
        raise MetricsError("scenario_metrics is empty: nothing to score")
    dec = scenario_metrics.filter(pl.col("period").dt.month() == 12)
    src = dec if dec.height else scenario_metrics
    return str(src["period"].dt.year().max())


def benchmark_observations(
    scores: pl.DataFrame, scenarios: pl.DataFrame, scheme: Scheme, period: str
) -> pl.DataFrame:
    """Count 标杆 scenarios per region as long-layout observation rows (every column a string).

    Regions with scenarios but no benchmark get an explicit ``"0"``. ``status`` is provisional (a
    scoring result, not an official statistic); ``note`` names the rule and the input sources so
    synthetic inputs stay labelled synthetic.

    Args:
        scores: the ``scores`` frame (``region``, ``benchmark``).
        scenarios: ``region, source`` of every scenario.
        scheme: the scheme used.
        period: scored period; its year is the observation period.

    Returns:
        ``kpi_id, region, period, value, std_error, source, status, note``.
    """
    year = period[:4]
    counts = (
        scenarios.select("region")
        .unique()
        .join(
            scores.group_by("region").agg(n=pl.col("benchmark").fill_null(False).sum()),
            on="region",
            how="left",
        )
        .with_columns(pl.col("n").fill_null(0))
        .sort("region")
    )
    sources = ", ".join(sorted(set(scenarios["source"].to_list())))
    bm = scheme.spec.benchmark
    note = (
        f"{bm.label_zh} ({bm.label_en}) scenarios scored for {period}: grade ≥ {bm.min_grade} with probability ≥ "
        f"{bm.min_probability:g}"
        + (", significant measured improvement" if bm.require_significant_effect else "")
        + f"; inputs: {sources}"
    )
    return pl.DataFrame(
        {
            "kpi_id": [BENCHMARK_KPI] * counts.height,
            "region": counts["region"].to_list(),
            "period": [year] * counts.height,
            "value": [str(int(v)) for v in counts["n"].to_list()],
            "std_error": [""] * counts.height,
            "source": [f"dtscope score (scheme {scheme.spec.scheme} {scheme.spec.version})"] * counts.height,
            "status": ["provisional"] * counts.height,
            "note": [note] * counts.height,
        },
        schema=dict.fromkeys(LONG_COLUMNS, pl.String),
    )


def score_scenarios(
    scenarios: pl.DataFrame,
    scenario_metrics: pl.DataFrame,
    street_outcomes: pl.DataFrame,
    scheme: Scheme,
    *,
    period: str | None = None,
    n_draws: int = 2000,
    seed: int = 0,
    judged: pl.DataFrame | None = None,
) -> ScoreResult:
    """Score every scenario launched by the end of ``period`` with ``scheme``.

    Args:
        scenarios: :class:`evaluation.tables.Scenarios`.
        scenario_metrics: :class:`evaluation.tables.ScenarioMetrics` (monthly; ``value`` must be numeric).
        street_outcomes: :class:`evaluation.tables.StreetOutcomes` (monthly outcome per street).
        scheme: a loaded scheme (:func:`evaluation.assessment.scheme.load_scheme`).
        period: ``"YYYY"`` or ``"YYYY-MM"``; default :func:`default_period`.
        n_draws: Monte-Carlo draws for rank and grade uncertainty.
        seed: random seed (same inputs and seed → same outputs).
        judged: values of the scheme's ``source: judged`` indicators, combined from an assessment round's
            ratings: ``scenario_id, indicator_id, value, std_error`` (the raters' spread as measurement error).

    Returns:
        :class:`ScoreResult`.

    Raises:
        MetricsError: a non-numeric metric or outcome value (naming the table, row and key).
        evaluation.assessment.scheme.SchemeError: the scheme names an indicator absent from the metrics.
    """
    metrics = check_numeric(
        scenario_metrics,
        column="value",
        what="scenario_metrics",
        key_columns=("scenario_id", "period", "indicator_id"),
    )
    outcomes = check_numeric(
        street_outcomes,
        column="value",
        what="street_outcomes",
        key_columns=("region", "street", "outcome", "period"),
    )
    chosen = period or default_period(metrics)
    _, end = parse_period(chosen)
    launched = scenarios.filter(pl.col("launch_date") <= end)
    if launched.height < scenarios.height:
        log.info(
            "%d scenario(s) launch after %s and are not scored", scenarios.height - launched.height, chosen
        )
    eff = scheme.spec.efficacy
    efficacy, events, series = efficacy_table(
        launched,
        outcomes,
        until=end,
        alpha=eff.alpha,
        min_pre=eff.min_pre,
        min_post=eff.min_post,
        min_controls=eff.min_controls,
    )
    values = (
        period_values(
            metrics.filter(pl.col("scenario_id").is_in(launched["scenario_id"].to_list())), scheme, chosen
        )
        .select("scenario_id", "indicator_id", "value")
        .with_columns(std_error=pl.lit(None, dtype=pl.Float64))
    )
    effect_ids = [i for i, s in scheme.spec.indicators.items() if s.source == "efficacy"]
    significant: dict[str, bool] = {}
    if effect_ids:
        improvement = effect_indicator(
            efficacy,
            prefer=eff.prefer,
            direction=dict(eff.outcome_direction),
            default_direction=eff.default_direction,
            alpha=eff.alpha,
        )
        significant = dict(
            zip(improvement["scenario_id"].to_list(), improvement["significant"].to_list(), strict=True)
        )
        extra = pl.concat(
            [
                improvement.select(
                    "scenario_id", indicator_id=pl.lit(i), value="value", std_error="std_error"
                )
                for i in effect_ids
            ]
        )
        values = pl.concat([values, extra], how="vertical_relaxed")
    if judged is not None and judged.height:
        rated = judged.select("scenario_id", "indicator_id", "value", "std_error").filter(
            pl.col("scenario_id").is_in(launched["scenario_id"].to_list())
        )
        values = pl.concat([values, rated.cast(values.schema)], how="vertical_relaxed")
    assessment = score_scheme(
        values,
        launched.select("scenario_id", "region"),
        scheme,
        period=chosen,
        n_draws=n_draws,
        seed=seed,
        significant=significant,
        known_indicators=set(metrics["indicator_id"].unique().to_list()),
    )
    return ScoreResult(
        scores=assessment.scores,
        efficacy=efficacy,
        explanations=assessment.explanations,
        benchmark_observations=benchmark_observations(assessment.scores, launched, scheme, chosen),
        sensitivity=assessment.sensitivity,
        indicator_sensitivity=assessment.indicator_sensitivity,
        acceptability=assessment.acceptability,
        event_study=events,
        efficacy_series=series,
        weights=assessment.weights,
        period=chosen,
    )
