"""Typed response models: the OpenAPI document at ``/api/v1/openapi.json`` is the API's contract.

Rows name the columns of DESIGN.md's tables; columns a run adds beyond those (e.g. ``scores``'
``dim_<dimension>`` columns) pass through as extra properties.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Row(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Kpi(Row):
    kpi_id: str
    region: str
    name_zh: str | None = None
    name_en: str | None = None
    unit: str | None = None
    kind: str | None = None
    direction: str | None = None
    lower: float | None = None
    upper: float | None = None
    target_kind: str | None = None
    target_value: float | None = None
    target_high: float | None = None
    target_year: int | None = None
    obligation: str | None = None
    cumulative: bool | None = None
    source: str | None = None


class Observation(Row):
    kpi_id: str
    region: str
    period: str = Field(description="ISO date")
    value: float | None = None
    std_error: float | None = None
    source: str | None = None
    status: str | None = None
    vintage: str | None = Field(default=None, description="ISO date-time of ingestion")


class Forecast(Row):
    kpi_id: str
    region: str
    period: int
    model: str | None = None
    mean: float | None = None
    q0_025: float | None = Field(default=None, alias="q0.025")
    q0_1: float | None = Field(default=None, alias="q0.1")
    q0_5: float | None = Field(default=None, alias="q0.5")
    q0_9: float | None = Field(default=None, alias="q0.9")
    q0_975: float | None = Field(default=None, alias="q0.975")
    run_id: str | None = None


class Attainment(Row):
    kpi_id: str
    region: str
    target_year: int | None = None
    p_reach: float | None = None
    status: str | None = None
    anticipated_growth: float | None = None
    required_growth: float | None = None
    expected_year: float | None = None
    run_id: str | None = None


class Scenario(Row):
    scenario_id: str
    name_zh: str | None = None
    name_en: str | None = None
    region: str
    street: str | None = None
    domain: str | None = None
    category: str | None = None
    owner: str | None = None
    launch_date: str | None = None
    budget: float | None = None


class Score(Row):
    scenario_id: str
    region: str | None = None
    period: str | None = None
    scheme: str | None = None
    total: float | None = None
    grade: str | None = None
    rank: float | None = None
    rank_lo: float | None = None
    rank_hi: float | None = None
    run_id: str | None = None


class Efficacy(Row):
    scenario_id: str
    outcome: str | None = None
    method: str | None = None
    effect: float | None = None
    ci_lo: float | None = None
    ci_hi: float | None = None
    p_value: float | None = None
    n_pre: int | None = None
    n_post: int | None = None
    run_id: str | None = None


class Run(Row):
    run_id: str
    run_name: str | None = None
    kind: str | None = None
    status: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    alias: str | None = None


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
