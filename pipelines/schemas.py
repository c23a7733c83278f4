"""The tables between steps (see ../shared/DESIGN.md), as polars dtypes plus pandera schemas.

Every boundary — registry load, ingest, demo generation, warehouse read — calls :func:`validate`,
which raises :class:`TableError` naming the table, the column and the first offending rows.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from evaluation import tables


class TableError(ValueError):
    """A frame does not match its table contract."""


KPIS = pa.DataFrameSchema(
    {
        "kpi_id": pa.Column(pl.String, pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "region": pa.Column(pl.String),
        "name_zh": pa.Column(pl.String),
        "name_en": pa.Column(pl.String),
        "unit": pa.Column(pl.String),
        "kind": pa.Column(pl.String, pa.Check.isin(["share", "count", "amount", "rate", "level"])),
        "direction": pa.Column(pl.String, pa.Check.isin(["up", "down"])),
        "lower": pa.Column(pl.Float64, nullable=True),
        "upper": pa.Column(pl.Float64, nullable=True),
        "precision": pa.Column(pl.Float64, pa.Check.gt(0)),
        "cumulative": pa.Column(pl.Boolean),
        "survey": pa.Column(pl.Boolean),
        "levels": pa.Column(pl.String, nullable=True),
        "target_kind": pa.Column(
            pl.String,
            pa.Check.isin(["at_least", "at_most", "more_than", "range", "full", "level"]),
            nullable=True,
        ),
        "target_value": pa.Column(pl.Float64, nullable=True),
        "target_high": pa.Column(pl.Float64, nullable=True),
        "target_label": pa.Column(pl.String, nullable=True),
        "target_year": pa.Column(pl.Int32, nullable=True),
        "obligation": pa.Column(pl.String, pa.Check.isin(["expected", "binding"]), nullable=True),
        "source": pa.Column(pl.String),
    },
    unique=["kpi_id", "region"],
    strict=True,
    name="kpis",
)

# Observation rows as the warehouse stores them. `period` is the first day of the period and `freq`
# its length (Y, Q, M), so annual, quarterly and monthly figures sort and join on one column.
# `qualifier` keeps what a published figure says about itself: "=" exact, ">" more than (a lower
# bound), "<" less than, "~" approximate (约/近). `note` carries flags such as CONFLICT.
# column types shared with the dashboard's contract (one definition, ``evaluation.tables``)
KPIS_POLARS = tables.KPIS
REJECTS_POLARS = tables.REJECTS
INGESTS_POLARS = tables.INGESTS
SCENARIOS_POLARS = tables.SCENARIOS

OBSERVATIONS_POLARS: dict[str, pl.DataType | type[pl.DataType]] = {
    "kpi_id": pl.String,
    "region": pl.String,
    "period": pl.Date,
    "freq": pl.String,
    "value": pl.Float64,
    "std_error": pl.Float64,
    "qualifier": pl.String,
    "source": pl.String,
    "status": pl.String,
    "note": pl.String,
    "vintage": pl.Datetime("us"),
    "ingest_id": pl.String,
}

OBSERVATIONS = pa.DataFrameSchema(
    {
        "kpi_id": pa.Column(pl.String),
        "region": pa.Column(pl.String),
        "period": pa.Column(pl.Date),
        "freq": pa.Column(pl.String, pa.Check.isin(["Y", "Q", "M"])),
        "value": pa.Column(pl.Float64, pa.Check(lambda d: d.lazyframe.select(pl.col(d.key).is_finite()))),
        "std_error": pa.Column(pl.Float64, pa.Check.ge(0), nullable=True),
        "qualifier": pa.Column(pl.String, pa.Check.isin(["=", ">", "<", "~"])),
        "source": pa.Column(pl.String),
        "status": pa.Column(pl.String, pa.Check.isin(["provisional", "final"])),
        "note": pa.Column(pl.String, nullable=True),
        "vintage": pa.Column(pl.Datetime("us")),
        "ingest_id": pa.Column(pl.String),
    },
    strict=True,
    name="observations",
)


REJECTS = pa.DataFrameSchema(
    {
        "ingest_id": pa.Column(pl.String),
        "file": pa.Column(pl.String),
        "file_sha256": pa.Column(pl.String),
        "row": pa.Column(pl.Int64, pa.Check.ge(1)),
        "column": pa.Column(pl.String),
        "reason_code": pa.Column(pl.String),
        "reason": pa.Column(pl.String),
        "raw": pa.Column(pl.String),
        "vintage": pa.Column(pl.Datetime("us")),
    },
    strict=True,
    name="rejects",
)


SCENARIOS = pa.DataFrameSchema(
    {
        "scenario_id": pa.Column(pl.String, unique=True),
        "name_zh": pa.Column(pl.String),
        "name_en": pa.Column(pl.String),
        "region": pa.Column(pl.String),
        "street": pa.Column(pl.String),
        "domain": pa.Column(pl.String, pa.Check.isin(["life", "governance", "economy"])),
        "category": pa.Column(pl.String),
        "owner": pa.Column(pl.String),
        "launch_date": pa.Column(pl.Date),
        "budget": pa.Column(pl.Float64, pa.Check.ge(0)),
        "outcome": pa.Column(pl.String, nullable=True),
        "source": pa.Column(pl.String),
    },
    strict=True,
    name="scenarios",
)

SCENARIO_METRICS_POLARS: dict[str, pl.DataType | type[pl.DataType]] = {
    "scenario_id": pl.String,
    "period": pl.Date,
    "indicator_id": pl.String,
    "value": pl.Float64,
    "source": pl.String,
}

SCENARIO_METRICS = pa.DataFrameSchema(
    {
        "scenario_id": pa.Column(pl.String),
        "period": pa.Column(pl.Date),
        "indicator_id": pa.Column(pl.String),
        "value": pa.Column(pl.Float64),
        "source": pa.Column(pl.String),
    },
    unique=["scenario_id", "period", "indicator_id"],
    strict=True,
    name="scenario_metrics",
)

# Monthly outcome series per street (e.g. bin-overflow complaints). A street where a scenario of that
# outcome launched is treated from the launch month on; streets without one are comparisons.
STREET_OUTCOMES_POLARS: dict[str, pl.DataType | type[pl.DataType]] = {
    "region": pl.String,
    "street": pl.String,
    "outcome": pl.String,
    "period": pl.Date,
    "value": pl.Float64,
    "source": pl.String,
}

STREET_OUTCOMES = pa.DataFrameSchema(
    {
        "region": pa.Column(pl.String),
        "street": pa.Column(pl.String),
        "outcome": pa.Column(pl.String),
        "period": pa.Column(pl.Date),
        "value": pa.Column(pl.Float64),
        "source": pa.Column(pl.String),
    },
    unique=["region", "street", "outcome", "period"],
    strict=True,
    name="street_outcomes",
)


def validate(frame: pl.DataFrame, schema: pa.DataFrameSchema, *, what: str) -> pl.DataFrame:
    """Check ``frame`` against ``schema``; return it unchanged or raise :class:`TableError`.

    Args:
        frame: the table to check.
        schema: one of the schemas in this module.
        what: where the frame came from (a file or step name), quoted in the error.
    """
    try:
        return schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        head = cases.head(5) if isinstance(cases, pl.DataFrame) else cases
        raise TableError(f"{what}: table {schema.name!r} breaks its contract:\n{head}") from exc
    except SchemaError as exc:
        raise TableError(f"{what}: table {schema.name!r} breaks its contract: {exc}") from exc
