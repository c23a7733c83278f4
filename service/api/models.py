"""Typed response models: the OpenAPI document at ``/api/v1/openapi.json`` is the API's contract.

The rows of published tables are derived from :mod:`evaluation.tables` (:func:`published_row`), never written
again here; columns a run adds beyond the named ones (``scores``' ``dim_<dimension>`` columns) pass through as
extra properties.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, create_model

from evaluation import tables


class Row(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


_JSON_TYPE: dict[type[pl.DataType], type] = {
    pl.String: str,
    pl.Boolean: bool,
    pl.Int32: int,
    pl.Int64: int,
    pl.Float64: float,
    pl.Date: str,
    pl.Datetime: str,
}
_DESCRIPTION = {pl.Date: "ISO date", pl.Datetime: "ISO date-time"}


def published_row(model_name: str, table: str, *keys: str) -> type[Row]:
    """The API row of published table ``table``, derived from its one definition in :mod:`evaluation.tables`.

    Its named columns in declared order, as JSON types (dates as ISO text); ``keys`` are required, every other
    column may be null or absent. Columns matched by pattern (``scores``' ``dim_*``) pass through as extras.
    A column whose name is not an identifier (``q0.025``) is a field named ``q0_025`` with that alias.
    """
    fields: dict[str, Any] = {}
    for column, dtype in tables.dtypes(tables.PUBLISHED[table]).items():
        base = dtype.base_type()
        kind, description = _JSON_TYPE[base], _DESCRIPTION.get(base)
        alias = column if not column.isidentifier() else None
        if column in keys:
            fields[column.replace(".", "_")] = (kind, Field(alias=alias, description=description))
        else:
            fields[column.replace(".", "_")] = (kind | None, Field(None, alias=alias, description=description))
    return create_model(model_name, __base__=Row, __module__=__name__, **fields)


Kpi = published_row("Kpi", "kpis", "kpi_id", "region")
Observation = published_row("Observation", "observations", "kpi_id", "region", "period")
Forecast = published_row("Forecast", "forecasts", "kpi_id", "region", "period")
Attainment = published_row("Attainment", "attainment", "kpi_id", "region")
Scenario = published_row("Scenario", "scenarios", "scenario_id", "region")
Score = published_row("Score", "scores", "scenario_id")
Efficacy = published_row("Efficacy", "efficacy", "scenario_id")
Run = published_row("Run", "runs", "run_id")


class AuditRow(BaseModel):
    id: int
    at: str
    actor: str
    role: str
    action: str
    target: str
    address: str | None = None
    before: str | None = Field(default=None, description="JSON text of the state before")
    after: str | None = Field(default=None, description="JSON text of the state after")


class RejectRow(BaseModel):
    row: int
    column: str
    reason_code: str
    reason: str


class IngestResult(BaseModel):
    """The answer of ``dtscope ingest`` for one file: ``in = accepted + unchanged + rejected``."""

    model_config = ConfigDict(populate_by_name=True)

    file: str
    layout: str
    in_: int = Field(alias="in")
    accepted: int
    unchanged: int
    rejected: int
    rejects: list[RejectRow]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a collection; pass ``next_cursor`` as ``cursor`` for the next (null on the last)."""

    items: list[T]
    next_cursor: str | None
    total: int
