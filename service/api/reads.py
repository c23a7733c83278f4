"""The read routes: one router per resource, each filtered by the caller's region scope on the server.

Every table read but ``/observations`` (which can also read the warehouse as of a vintage) and ``/runs`` (no
regions, not for owners) is one row of :data:`READS`: its table, response model, sort, query filters and where its
rows come from.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Query, Request

from service import backend
from service.api import models
from service.api.deps import authenticated, check_region, get_settings, require
from service.api.problems import ProblemError, responses
from service.api.tables import CSV_MEDIA, MAX_LIMIT, in_regions, page, published, scenario_scope
from service.principal import ROLES, Principal
from service.settings import ServiceSettings

ALL_ROLES = ROLES
NOT_OWNER = tuple(r for r in ROLES if r != "owner")
READ_ERRORS = responses(401, 403, 422, 503)
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_MEDIA: {"schema": {"type": "string"}}}, "description": "JSON page, or CSV with Accept: text/csv"}
}

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")]
Cursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,9}$", description="next_cursor of the previous page")]
Region = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$", description="a region id in your scope")]
KpiId = Annotated[str | None, Query(max_length=64, description="a KPI id")]
Settings = Annotated[ServiceSettings, Depends(get_settings)]
Reader = Annotated[Principal, Depends(require(*ALL_ROLES))]
Filters = dict[str, str | None]
"""Column -> the value a query parameter asks rows to equal (``None``: not asked)."""


def by_region(region: Region = None) -> Filters:
    return {"region": region}


def by_kpi_and_region(kpi_id: KpiId = None, region: Region = None) -> Filters:
    return {"kpi_id": kpi_id, "region": region}


def _router(tag: str) -> APIRouter:
    return APIRouter(tags=[tag], dependencies=[Depends(authenticated)], responses={**READ_ERRORS, **CSV_RESPONSE})


def _filter(frame: pl.DataFrame, **equals: str | None) -> pl.DataFrame:
    for column, value in equals.items():
        if value is not None:
            frame = frame.filter(pl.col(column) == value)
    return frame


Rows = Callable[[ServiceSettings, Principal, str, Filters], pl.DataFrame]
"""Where a read's rows come from: (settings, caller, table name, filters) -> the rows the caller may see."""


def in_scope(settings: ServiceSettings, principal: Principal, name: str, equals: Filters) -> pl.DataFrame:
    """Rows of published table ``name`` in the caller's regions."""
    return _filter(in_regions(published(settings.published_dir, name), principal), **equals)


def visible_scenarios(settings: ServiceSettings, principal: Principal, name: str, equals: Filters) -> pl.DataFrame:
    """The scenarios the caller may see (owners: their department's)."""
    return _filter(scenario_scope(settings.published_dir, principal), **equals)


def of_visible_scenarios(settings: ServiceSettings, principal: Principal, name: str, equals: Filters) -> pl.DataFrame:
    """Rows of published table ``name`` about the scenarios the caller may see."""
    visible = visible_scenarios(settings, principal, "scenarios", equals).select("scenario_id")
    return published(settings.published_dir, name).join(visible, on="scenario_id", how="semi")


@dataclass(frozen=True)
class Read:
    """One read route, ``GET /{table}``: a page of rows sorted by ``sort``, filtered by ``filters``' parameters."""

    table: str
    model: type
    sort: tuple[str, ...]
    doc: str
    filters: Callable[..., Filters] = by_region
    rows: Rows = in_scope

    def router(self) -> APIRouter:
        def read(
            request: Request,
            *,
            settings: Settings,
            principal: Reader,
            equals: Annotated[Filters, Depends(self.filters)],
            limit: Limit = 100,
            cursor: Cursor = None,
        ) -> Any:
            check_region(principal, equals["region"])
            frame = self.rows(settings, principal, self.table, equals)
            return page(request, frame, sort=self.sort, limit=limit, cursor=cursor)

        router = _router(self.table)
        router.add_api_route(
            f"/{self.table}",
            read,
            methods=["GET"],
            response_model=models.Page[self.model],  # type: ignore[name-defined]
            name=f"list_{self.table}",
            description=self.doc,
        )
        return router


READS = (
    Read("kpis", models.Kpi, ("kpi_id", "region"), "The KPI registry rows of your regions."),
    Read(
        "forecasts",
        models.Forecast,
        ("kpi_id", "region", "period", "model"),
        "Forecast quantiles of your regions' KPIs.",
        filters=by_kpi_and_region,
    ),
    Read(
        "attainment",
        models.Attainment,
        ("kpi_id", "region", "target_year"),
        "Probability of reaching each target, for your regions.",
        filters=by_kpi_and_region,
    ),
    Read(
        "scenarios",
        models.Scenario,
        ("scenario_id",),
        "Scenarios of your regions (owners: their department's).",
        rows=visible_scenarios,
    ),
    Read(
        "scores",
        models.Score,
        ("scheme", "period", "scenario_id"),
        "Scenario scores, grades and rank intervals (scenarios you may see).",
        rows=of_visible_scenarios,
    ),
    Read(
        "efficacy",
        models.Efficacy,
        ("scenario_id", "outcome", "method"),
        "Effect estimates per scenario and outcome (scenarios you may see).",
        rows=of_visible_scenarios,
    ),
)

observations = _router("observations")


@observations.get("/observations", response_model=models.Page[models.Observation])  # type: ignore[valid-type]
def list_observations(
    request: Request,
    *,
    settings: Settings,
    principal: Reader,
    equals: Annotated[Filters, Depends(by_kpi_and_region)],
    as_of: Annotated[datetime | None, Query(description="read the warehouse as it was at this time")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Observations of your regions: the published set, or the warehouse as of a vintage (``as_of``)."""
    check_region(principal, equals["region"])
    if as_of is not None:
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(UTC).replace(tzinfo=None)  # vintages are naive UTC
        if not settings.warehouse_path.exists():
            raise ProblemError(503, "the warehouse is not built yet; run `dtscope ingest` or `dtscope demo`")
        frame = backend.observations_as_of(settings.home, as_of, kpi_id=equals["kpi_id"], region=equals["region"])
    else:
        frame = published(settings.published_dir, "observations")
    frame = _filter(in_regions(frame, principal), **equals)
    return page(request, frame, sort=("kpi_id", "region", "period", "source", "vintage"), limit=limit, cursor=cursor)


runs = _router("runs")


@runs.get("/runs", response_model=models.Page[models.Run])  # type: ignore[valid-type]
def list_runs(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*NOT_OWNER))],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """The MLflow runs behind the published figures (not for owners)."""
    frame = published(settings.published_dir, "runs")
    return page(request, frame, sort=("start_time", "run_id"), limit=limit, cursor=cursor)


_kpis, *_others = (read.router() for read in READS)
ROUTERS = (_kpis, observations, *_others, runs)  # the order of the OpenAPI document
