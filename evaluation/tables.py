"""Every table dtscope passes between steps or publishes: one definition each, as pandera models.

Each table is a :class:`pandera.polars.DataFrameModel`; everything else is *derived* from it, never
written again:

* :func:`dtypes` — the polars schema (``pl.DataFrame(rows, schema=dtypes(Forecasts))``);
* :func:`empty` — a typed frame with no rows;
* :func:`optional` — the columns a frame may leave out (annotated ``X | None``);
* :func:`allowed` — the values a String column may take (from its ``isin`` check);
* :func:`validate` — strict check (exact dtypes, no unknown columns, required columns present, allowed
  values, uniqueness), raising :class:`TableError` naming the table, the column and the first offending rows.

:data:`PUBLISHED` maps each published table name (``published_tables/<name>.parquet``) to its model;
:data:`INPUTS` does the same for the warehouse's input tables. ``scores`` carries one ``dim_<dimension_id>``
Float64 column (0–100) per assessment dimension, matched by :data:`DIMENSION_PREFIX`.

Light on purpose (polars, pandera and :mod:`evaluation.likelihood` only): the dashboard imports it.

>>> dtypes(ForecastFailures)["stage"]
String
>>> allowed(Attainment)["status"]
('achieved', 'on_track', 'at_risk', 'off_track', 'unknown')
>>> empty(Calibration).schema["n"]
Int64
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import pandera.polars as pa
import polars as pl
from pandera.engines import polars_engine as pe
from pandera.errors import SchemaError, SchemaErrors

from evaluation.likelihood import SCALE

Dtype = pl.DataType | type[pl.DataType]
Model = type[pa.DataFrameModel]

DIMENSION_PREFIX = "dim_"
SYNTHETIC_SOURCE = "synthetic-demo"

# ------------------------------------------------------------------------------------ allowed values
KpiKind = Literal["share", "count", "amount", "rate", "level"]
Direction = Literal["up", "down"]
TargetKind = Literal["at_least", "at_most", "more_than", "range", "full", "level"]
Obligation = Literal["expected", "binding"]
Freq = Literal["Y", "Q", "M"]
Qualifier = Literal["=", ">", "<", "~"]
ObservationStatus = Literal["provisional", "final"]
# Where an observation came from, most trusted first (pipelines.steps.series ranks them in this order).
DataSet = Literal["file", "published", "plan", "synthetic-demo", "derived"]
# Who loaded an observation and how, set by the loader and never read from the file (pipelines.io.warehouse):
# the demo loader, the shipped published figures' and plan baselines' own loader, any user file, dtscope's own.
Provenance = Literal["synthetic", "published", "uploaded", "derived"]
Layout = Literal["long", "published", "wide"]
Domain = Literal["life", "governance", "economy"]
Grade = Literal["优秀", "良好", "合格", "不合格"]
GradeId = Literal["excellent", "good", "pass", "fail"]
ScoreStatus = Literal["scored", "excluded", "no_data"]
EfficacyMethod = Literal["its", "did"]
EfficacyStatus = Literal["ok", "insufficient_data"]
# "unknown" when there is no forecast distribution at the target year to read a probability from
AttainmentStatus = Literal["achieved", "on_track", "at_risk", "off_track", "unknown"]
FailureStage = Literal["input", "forecast"]
# The MLflow tag ``dtscope.step`` of every run the pipeline starts.
RunKind = Literal["pipeline", "score", "forecast", "forecast-series"]
RunStatus = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]

# the words of the one likelihood scale, plus what an attainment row without a probability says
LIKELIHOOD_EN: tuple[str, ...] = (*(term.en for term in SCALE), "unknown")
LIKELIHOOD_ZH: tuple[str, ...] = (*(term.zh for term in SCALE), "未知")


def _isin(values: object) -> list[str]:
    """The members of a ``Literal`` as the list pandera's ``isin`` wants."""
    return list(get_args(values))


def _us(**kwargs: Any) -> Any:
    """A ``pa.Field`` for a microsecond ``Datetime`` column (the warehouse's and Parquet's unit)."""
    return pa.Field(dtype_kwargs={"time_unit": "us"}, **kwargs)


class _Table(pa.DataFrameModel):
    """What every table shares: strict columns and exact dtypes; its name and key in the class header.

    ``class Forecasts(_Table, table="forecasts", unique=(...))`` names the table (``Config.name``) and
    the columns whose values are unique together (``Config.unique``). A subclass that names no table is
    the same table with more columns (``PublishedObservations``) and keeps both.

    Column groups shared by several tables are bases (``_KpiRegion``, ``_ScenarioOutcome``, ...). Columns
    come base first, as pandera collects them in reverse method resolution order: a model's own columns
    follow its bases', and of two bases the one listed last comes first. A column a model declares again
    (to add a check) keeps its base's place.
    """

    class Config:
        strict = True  # unknown columns are an error (regex fields such as ``dim_*`` still match)
        coerce = False  # exact dtypes: nothing is cast on the way in

    def __init_subclass__(
        cls, *, table: str | None = None, unique: Sequence[str] = (), **kwargs: Any
    ) -> None:
        inherited: Any = cls.Config  # the first base's, already named by pandera
        options: dict[str, Any] = {"name": table or inherited.name}
        if unique:
            options["unique"] = list(unique)
        cls.Config = type("Config", (inherited,), options)  # type: ignore[misc,assignment]  # pandera reads it next
        super().__init_subclass__(**kwargs)


# --------------------------------------------------------------------------------- column groups
class _KpiRegion(_Table):
    """One KPI's series in one region."""

    kpi_id: pl.String
    region: pl.String


class _Figure(_KpiRegion):
    """One figure as an input file states it (``qualifier``, ``status`` and ``note`` are the file's)."""

    period: pl.Date
    freq: pl.String = pa.Field(isin=_isin(Freq))
    value: pl.Float64
    std_error: pl.Float64 = pa.Field(nullable=True)
    qualifier: pl.String = pa.Field(isin=_isin(Qualifier))
    source: pl.String
    status: pl.String = pa.Field(isin=_isin(ObservationStatus))
    note: pl.String = pa.Field(nullable=True)


class _FileCell(_Table):
    """Where in an input file a row was read: its line number and the column it is about."""

    row: pl.Int64
    column: pl.String


class _IngestedFile(_Table):
    """The ingest a row came in with, and its file."""

    ingest_id: pl.String
    file: pl.String
    file_sha256: pl.String


class _ForecastYear(_KpiRegion):
    """One KPI in one region in one forecast year."""

    period: pl.Int32


class _ScenarioOutcome(_Table):
    """One scenario's effect on one outcome series."""

    scenario_id: pl.String
    outcome: pl.String


# ============================================================================ inputs (warehouse tables)
class Kpis(_Table, table="kpis", unique=("kpi_id", "region")):
    """One row per indicator and region (the KPI registry, ``data/registry/kpis.yaml``)."""

    kpi_id: pl.String = pa.Field(str_matches=r"^[a-z0-9_]+$")
    region: pl.String
    name_zh: pl.String
    name_en: pl.String
    unit: pl.String
    kind: pl.String = pa.Field(isin=_isin(KpiKind))
    direction: pl.String = pa.Field(isin=_isin(Direction))
    lower: pl.Float64 = pa.Field(nullable=True)
    upper: pl.Float64 = pa.Field(nullable=True)
    precision: pl.Float64 = pa.Field(gt=0)
    cumulative: pl.Boolean
    survey: pl.Boolean
    levels: pl.String = pa.Field(nullable=True)
    target_kind: pl.String = pa.Field(isin=_isin(TargetKind), nullable=True)
    target_value: pl.Float64 = pa.Field(nullable=True)
    target_high: pl.Float64 = pa.Field(nullable=True)
    target_label: pl.String = pa.Field(nullable=True)
    target_year: pl.Int32 = pa.Field(nullable=True)
    obligation: pl.String = pa.Field(isin=_isin(Obligation), nullable=True)
    source: pl.String


class Observations(_Figure, table="observations"):
    """Observation rows as the warehouse stores them (append-only; a revision is a new ``vintage``).

    ``period`` is the first day of the period and ``freq`` its length, so annual, quarterly and monthly
    figures sort and join on one column. ``qualifier``: "=" exact, ">" more than (a lower bound), "<" less
    than, "~" approximate (约/近). ``note`` carries flags such as CONFLICT.
    """

    std_error: pl.Float64 = pa.Field(ge=0, nullable=True)
    vintage: pe.DateTime = _us()
    ingest_id: pl.String
    provenance: pl.String = pa.Field(isin=_isin(Provenance))

    @pa.check("value", name="finite")
    @classmethod
    def _finite(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_finite())


class PublishedObservations(Observations):
    """The published ``observations``: the warehouse's rows plus where each came from (``data_set``)."""

    data_set: pl.String = pa.Field(isin=_isin(DataSet))


class FileRejects(_FileCell, table="file_rejects"):
    """Rows a reader set aside before ingest (``row`` is the file's line number); the warehouse adds the
    ingest id, file, hash and vintage to make them :class:`Rejects`."""

    reason_code: pl.String
    reason: pl.String
    raw: pl.String


class Rejects(FileRejects, _IngestedFile, table="rejects"):
    """Every input row that failed validation, with the file, row number, column and reason."""

    row: pl.Int64 = pa.Field(ge=1)
    vintage: pe.DateTime = _us()


class Ingests(_IngestedFile, table="ingests"):
    """One row per ingested file: how many rows came in and what became of them."""

    ingest_id: pl.String = pa.Field(unique=True)
    layout: pl.String = pa.Field(isin=_isin(Layout))
    vintage: pe.DateTime = _us()
    rows_in: pl.Int64 = pa.Field(ge=0)
    accepted: pl.Int64 = pa.Field(ge=0)
    rejected: pl.Int64 = pa.Field(ge=0)
    unchanged: pl.Int64 = pa.Field(ge=0)


class Scenarios(_Table, table="scenarios"):
    """One row per application scenario."""

    scenario_id: pl.String = pa.Field(unique=True)
    name_zh: pl.String
    name_en: pl.String
    region: pl.String
    street: pl.String
    domain: pl.String = pa.Field(isin=_isin(Domain))
    category: pl.String
    owner: pl.String
    launch_date: pl.Date
    budget: pl.Float64 = pa.Field(ge=0)
    outcome: pl.String = pa.Field(nullable=True)
    source: pl.String


class ScenarioMetrics(_Table, table="scenario_metrics", unique=("scenario_id", "period", "indicator_id")):
    """Monthly indicator values per scenario (the assessment's raw inputs)."""

    scenario_id: pl.String
    period: pl.Date
    indicator_id: pl.String
    value: pl.Float64
    source: pl.String


class StreetOutcomes(_Table, table="street_outcomes", unique=("region", "street", "outcome", "period")):
    """Monthly outcome series per street (e.g. bin-overflow complaints).

    A street where a scenario of that outcome launched is treated from the launch month on; streets
    without one are comparisons.
    """

    region: pl.String
    street: pl.String
    outcome: pl.String
    period: pl.Date
    value: pl.Float64
    source: pl.String


# ============================================================================== between steps
class Accepted(_Figure, _FileCell, table="accepted"):
    """Rows an input file passed validation with, before the warehouse stamps ingest id and vintage."""


class PublishedFiguresLong(_KpiRegion, table="published_figures_long"):
    """Published figures mapped to KPI rows, still as text (the long input layout) plus the source row."""

    period: pl.String
    value: pl.String
    std_error: pl.String = pa.Field(nullable=True)
    source: pl.String
    status: pl.String = pa.Field(nullable=True)
    note: pl.String = pa.Field(nullable=True)
    row: pl.Int64


class AnnualSeries(_KpiRegion, table="annual_series"):
    """One value per KPI, region and year (the forecaster's input), gaps as null rows."""

    year: pl.Int32
    value: pl.Float64 = pa.Field(nullable=True)
    std_error: pl.Float64 = pa.Field(nullable=True)
    qualifier: pl.String = pa.Field(isin=_isin(Qualifier), nullable=True)
    data_set: pl.String = pa.Field(isin=_isin(DataSet), nullable=True)
    n_sources: pl.Int32 = pa.Field(nullable=True)


class DemoTruth(_ScenarioOutcome, table="truth"):
    """The effects the demo generator planted (for checking the efficacy estimates)."""

    true_effect: pl.Float64
    true_effect_pct: pl.Float64


# ================================================================================== published
class Forecasts(_ForecastYear, table="forecasts", unique=("kpi_id", "region", "period")):
    """Forecast quantiles per KPI, region and future year.

    ``mean`` is the point forecast: the median of the predictive distribution (the name is the file
    contract's; a mean on a log scale is a moment of the upper tail, see :mod:`models.champion.plausible`).
    """

    model: pl.String
    mean: pl.Float64
    q0_025: pl.Float64 = pa.Field(alias="q0.025")
    q0_1: pl.Float64 = pa.Field(alias="q0.1")
    q0_5: pl.Float64 = pa.Field(alias="q0.5")
    q0_9: pl.Float64 = pa.Field(alias="q0.9")
    q0_975: pl.Float64 = pa.Field(alias="q0.975")
    data_set: pl.String = pa.Field(isin=_isin(DataSet))


class ForecastSamples(_ForecastYear, table="forecast_samples"):
    """Equal-probability draws of each forecast (for what-if questions on the KPI page)."""

    draw: pl.Int32
    value: pl.Float64


class ForecastFailures(_KpiRegion, table="forecast_failures"):
    """KPI × region pairs that got no forecast, and why."""

    stage: pl.String = pa.Field(isin=_isin(FailureStage))
    error: pl.String


class Attainment(_KpiRegion, table="attainment", unique=("kpi_id", "region")):
    """Whether each KPI reaches its target: probability, status and the growth it would take."""

    target_year: pl.Int32
    target_kind: pl.String = pa.Field(isin=_isin(TargetKind))
    target_value: pl.Float64
    target_high: pl.Float64 = pa.Field(nullable=True)
    obligation: pl.String = pa.Field(isin=_isin(Obligation), nullable=True)
    p_reach: pl.Float64 = pa.Field(ge=0, le=1, nullable=True)  # null with status "unknown" (no forecast)
    status: pl.String = pa.Field(isin=_isin(AttainmentStatus))
    likelihood: pl.String = pa.Field(isin=list(LIKELIHOOD_EN))
    likelihood_zh: pl.String = pa.Field(isin=list(LIKELIHOOD_ZH))
    anticipated_growth: pl.Float64 = pa.Field(nullable=True)
    required_growth: pl.Float64 = pa.Field(nullable=True)
    sdg_rule: pl.Float64 = pa.Field(nullable=True)
    # the first year the median forecast meets the target; null when it never does within the horizon
    expected_year: pl.Int32 = pa.Field(nullable=True)
    gap: pl.Float64 = pa.Field(nullable=True)
    last_value: pl.Float64 = pa.Field(nullable=True)
    last_year: pl.Int32 = pa.Field(nullable=True)
    model: pl.String
    data_set: pl.String = pa.Field(isin=_isin(DataSet))


class BacktestMetrics(_Table, table="backtest_metrics"):
    """Backtest metrics of the champion per KPI kind and horizon (``horizon = 0``: all horizons)."""

    model: pl.String
    kind: pl.String = pa.Field(isin=_isin(KpiKind))
    horizon: pl.Int32 = pa.Field(ge=0)
    metric: pl.String
    value: pl.Float64 = pa.Field(nullable=True)


class Calibration(_Table, table="calibration"):
    """Reliability of the attainment probabilities on the backtests, one row per probability bin."""

    model: pl.String
    bin_lo: pl.Float64
    bin_hi: pl.Float64
    predicted_mean: pl.Float64 = pa.Field(nullable=True)
    observed_freq: pl.Float64 = pa.Field(nullable=True)
    n: pl.Int64 = pa.Field(ge=0)


class Runs(_Table, table="runs"):
    """Recent MLflow runs for the Models page; ``kind`` is the run's ``dtscope.step`` tag."""

    run_id: pl.String = pa.Field(unique=True)
    run_name: pl.String
    kind: pl.String = pa.Field(isin=_isin(RunKind))
    status: pl.String = pa.Field(isin=_isin(RunStatus))
    start_time: pe.DateTime = _us(nullable=True)
    end_time: pe.DateTime = _us(nullable=True)
    params_json: pl.String
    metrics_json: pl.String
    alias: pl.String = pa.Field(nullable=True)
    mlflow_url: pl.String


class Scores(_Table, table="scores"):
    """One row per scenario: dimension scores (``dim_*``), total, grade, rank and its uncertainty."""

    scenario_id: pl.String
    region: pl.String
    period: pl.String
    scheme: pl.String
    dim_: pl.Float64 = pa.Field(alias=rf"^{DIMENSION_PREFIX}.+$", regex=True, nullable=True)
    total: pl.Float64 = pa.Field(nullable=True)
    grade: pl.String = pa.Field(isin=_isin(Grade), nullable=True)
    grade_id: pl.String = pa.Field(isin=_isin(GradeId), nullable=True)
    # ranks are Float64: tied scenarios share their average rank (2.5), and rank_lo/hi are quantiles
    rank: pl.Float64 = pa.Field(nullable=True)
    rank_lo: pl.Float64 = pa.Field(nullable=True)
    rank_hi: pl.Float64 = pa.Field(nullable=True)
    rank_median: pl.Float64 = pa.Field(nullable=True)
    p_grade_excellent: pl.Float64 | None = pa.Field(nullable=True)
    p_grade_good: pl.Float64 | None = pa.Field(nullable=True)
    p_grade_pass: pl.Float64 | None = pa.Field(nullable=True)
    p_grade_fail: pl.Float64 | None = pa.Field(nullable=True)
    benchmark: pl.Boolean
    missing_indicators: pl.String
    missing_weight: pl.Float64 = pa.Field(nullable=True)
    status: pl.String = pa.Field(isin=_isin(ScoreStatus))
    loo_reversals: pl.Int64 = pa.Field(nullable=True)
    vikor_compromise: pl.Boolean = pa.Field(nullable=True)


class Efficacy(_ScenarioOutcome, table="efficacy"):
    """Effect of each scenario on its outcome (interrupted time series or difference in differences)."""

    method: pl.String = pa.Field(isin=_isin(EfficacyMethod))
    effect: pl.Float64 = pa.Field(nullable=True)
    ci_lo: pl.Float64 = pa.Field(nullable=True)
    ci_hi: pl.Float64 = pa.Field(nullable=True)
    p_value: pl.Float64 = pa.Field(nullable=True)
    n_pre: pl.Int64
    n_post: pl.Int64
    status: pl.String = pa.Field(isin=_isin(EfficacyStatus))
    std_error: pl.Float64 = pa.Field(nullable=True)
    n_controls: pl.Int64
    effect_pct: pl.Float64 = pa.Field(nullable=True)
    counterfactual: pl.Float64 = pa.Field(nullable=True)
    note: pl.String


class EfficacySeries(_ScenarioOutcome, table="efficacy_series"):
    """Observed, fitted and counterfactual outcome per scenario and month (the efficacy chart)."""

    period: pl.Date
    observed: pl.Float64 = pa.Field(nullable=True)
    fitted: pl.Float64 = pa.Field(nullable=True)
    counterfactual: pl.Float64 = pa.Field(nullable=True)
    method: pl.String = pa.Field(isin=_isin(EfficacyMethod))


class EventStudy(_ScenarioOutcome, table="event_study"):
    """Effect by months since launch (``k``) per scenario and outcome."""

    k: pl.Int64
    effect: pl.Float64 = pa.Field(nullable=True)


class Explanations(_Table, table="explanations"):
    """Each indicator's contribution to a scenario's total."""

    scenario_id: pl.String
    period: pl.String
    scheme: pl.String
    dimension: pl.String
    indicator_id: pl.String
    name_zh: pl.String
    raw_value: pl.Float64 = pa.Field(nullable=True)
    normalised: pl.Float64 = pa.Field(nullable=True)
    weight: pl.Float64
    effective_weight: pl.Float64
    contribution: pl.Float64
    missing: pl.Boolean


class Sensitivity(_Table, table="sensitivity"):
    """Rank of each scenario when one dimension's weight moves by ``delta``."""

    scheme: pl.String
    dimension: pl.String
    delta: pl.Float64
    scenario_id: pl.String
    rank: pl.Float64  # ties share their average rank, as in ``scores``
    rank_change: pl.Float64


class Weights(_Table, table="weights"):
    """Final indicator weights (``weight_tree``: as the scheme states them)."""

    indicator_id: pl.String
    dimension: pl.String
    weight_tree: pl.Float64
    weight: pl.Float64


class Acceptability(_Table, table="acceptability"):
    """Probability that each scenario takes each rank (the rank-acceptability table)."""

    scenario_id: pl.String
    rank: pl.Int64
    probability: pl.Float64 = pa.Field(ge=0, le=1)


# How the pipeline's tables are published: with the run that made them, under the same table name. The
# scoring step's tables also name the pipeline run around the score run (absent when ``dtscope score`` ran
# alone).
_RUN: dict[str, Any] = {"run_id": pl.String}
_SCORE_RUN: dict[str, Any] = {**_RUN, "pipeline_run_id": pl.String | None}


def _published(model: Model, columns: dict[str, Any]) -> Model:
    """``model`` as published: its columns, then ``columns`` (name → dtype), under the same table name."""
    return type(f"Published{model.__name__}", (model,), {"__annotations__": columns, "__module__": __name__})


PublishedForecasts = _published(Forecasts, _RUN)
PublishedForecastFailures = _published(ForecastFailures, _RUN)
PublishedAttainment = _published(Attainment, _RUN)
PublishedBacktestMetrics = _published(BacktestMetrics, _RUN)
PublishedCalibration = _published(Calibration, _RUN)
PublishedScores = _published(Scores, _SCORE_RUN)
PublishedEfficacy = _published(Efficacy, _SCORE_RUN)
PublishedEfficacySeries = _published(EfficacySeries, _SCORE_RUN)
PublishedEventStudy = _published(EventStudy, _SCORE_RUN)
PublishedExplanations = _published(Explanations, _SCORE_RUN)
PublishedSensitivity = _published(Sensitivity, _SCORE_RUN)
PublishedWeights = _published(Weights, _SCORE_RUN)
PublishedAcceptability = _published(Acceptability, _SCORE_RUN)


def _by_name(*models: Model) -> dict[str, Model]:
    return {str(m.Config.name): m for m in models}


INPUTS: dict[str, Model] = _by_name(
    Kpis, Observations, Rejects, Ingests, Scenarios, ScenarioMetrics, StreetOutcomes
)

PUBLISHED: dict[str, Model] = _by_name(
    Kpis,
    PublishedObservations,
    Rejects,
    Ingests,
    Scenarios,
    PublishedForecasts,
    ForecastSamples,
    PublishedForecastFailures,
    PublishedAttainment,
    PublishedBacktestMetrics,
    PublishedCalibration,
    Runs,
    PublishedScores,
    PublishedEfficacy,
    PublishedEfficacySeries,
    PublishedEventStudy,
    PublishedExplanations,
    PublishedSensitivity,
    PublishedWeights,
    PublishedAcceptability,
)


# ------------------------------------------------------------------------------------------ derived
class TableError(ValueError):
    """A frame does not match its table's definition."""


def name(model: Model) -> str:
    """The table's name (its ``Config.name``).

    >>> name(Kpis)
    'kpis'
    """
    return str(model.to_schema().name)


def dtypes(model: Model) -> dict[str, Dtype]:
    """The polars schema of ``model``'s named columns, in declared order (``dim_*`` is not one).

    >>> list(dtypes(PublishedWeights))
    ['indicator_id', 'dimension', 'weight_tree', 'weight', 'run_id', 'pipeline_run_id']
    """
    columns = model.to_schema().columns
    return {c: col.dtype.type for c, col in columns.items() if not col.regex}


def optional(model: Model) -> frozenset[str]:
    """Columns a frame may leave out (annotated ``X | None``).

    >>> sorted(optional(Scores))
    ['p_grade_excellent', 'p_grade_fail', 'p_grade_good', 'p_grade_pass']
    """
    return frozenset(c for c, col in model.to_schema().columns.items() if not col.required and not col.regex)


def allowed(model: Model) -> dict[str, tuple[str, ...]]:
    """The values each constrained column may take, from its ``isin`` check.

    >>> allowed(Runs)["kind"]
    ('pipeline', 'score', 'forecast', 'forecast-series')
    """
    out: dict[str, tuple[str, ...]] = {}
    for c, col in model.to_schema().columns.items():
        for check in col.checks:
            if check.name == "isin":
                out[c] = tuple(check.statistics["allowed_values"])
    return out


def empty(model: Model) -> pl.DataFrame:
    """A frame with ``model``'s named columns and no rows.

    >>> empty(ForecastFailures).shape
    (0, 4)
    """
    return pl.DataFrame(schema=dtypes(model))


def validate(frame: pl.DataFrame, model: Model, *, what: str) -> pl.DataFrame:
    """Check ``frame`` against ``model`` strictly; return it unchanged or raise :class:`TableError`.

    Strict means: every required column present, no column the model does not name (``dim_*`` matches
    ``scores``' regex field), each dtype exactly the declared one (nothing is cast), nulls only where the
    model allows them (NaN counts as null), values within their ``isin`` and range checks, keys unique.

    Args:
        frame: the table to check.
        model: its model in this module.
        what: where the frame came from (a file or step name), quoted in the error.

    Raises:
        TableError: naming the table, the columns that fail and the first offending cases.

    >>> bad = pl.DataFrame({"kpi_id": ["a"], "region": ["x"], "stage": ["later"], "error": ["e"]})
    >>> try:
    ...     validate(bad, ForecastFailures, what="doc")
    ... except TableError as exc:
    ...     print(str(exc).splitlines()[0])
    doc: table 'forecast_failures' breaks its contract in column(s) stage:
    """
    table = name(model)
    try:
        return model.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        if isinstance(cases, pl.DataFrame):
            columns = ", ".join(str(c) for c in cases["column"].unique(maintain_order=True).to_list())
            head = cases.select("column", "check", "failure_case", "index").head(8)
            raise TableError(
                f"{what}: table {table!r} breaks its contract in column(s) {columns}:\n{head}"
            ) from exc
        raise TableError(f"{what}: table {table!r} breaks its contract:\n{exc}") from exc
    except SchemaError as exc:
        raise TableError(f"{what}: table {table!r} breaks its contract: {exc}") from exc


__all__ = [
    "DIMENSION_PREFIX",
    "INPUTS",
    "LIKELIHOOD_EN",
    "LIKELIHOOD_ZH",
    "PUBLISHED",
    "SYNTHETIC_SOURCE",
    "Acceptability",
    "Accepted",
    "AnnualSeries",
    "Attainment",
    "BacktestMetrics",
    "Calibration",
    "DemoTruth",
    "Dtype",
    "Efficacy",
    "EfficacySeries",
    "EventStudy",
    "Explanations",
    "FileRejects",
    "ForecastFailures",
    "ForecastSamples",
    "Forecasts",
    "Ingests",
    "Kpis",
    "Model",
    "Observations",
    "PublishedAcceptability",
    "PublishedAttainment",
    "PublishedBacktestMetrics",
    "PublishedCalibration",
    "PublishedEfficacy",
    "PublishedEfficacySeries",
    "PublishedEventStudy",
    "PublishedExplanations",
    "PublishedFiguresLong",
    "PublishedForecastFailures",
    "PublishedForecasts",
    "PublishedObservations",
    "PublishedScores",
    "PublishedSensitivity",
    "PublishedWeights",
    "Rejects",
    "Runs",
    "ScenarioMetrics",
    "Scenarios",
    "Scores",
    "Sensitivity",
    "StreetOutcomes",
    "TableError",
    "Weights",
    "allowed",
    "dtypes",
    "empty",
    "name",
    "optional",
    "validate",
]
