"""The read routes: one router per resource, each filtered by the caller's region scope on the server."""

from __future__ import annotations

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


def _router(tag: str) -> APIRouter:
    return APIRouter(tags=[tag], dependencies=[Depends(authenticated)], responses={**READ_ERRORS, **CSV_RESPONSE})


def _filter(frame: pl.DataFrame, **equals: str | None) -> pl.DataFrame:
    for column, value in equals.items():
        if value is not None:
            frame = frame.filter(pl.col(column) == value)
    return frame


kpis = _router("kpis")


@kpis.get("/kpis", response_model=models.Page[models.Kpi])
def list_kpis(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*ALL_ROLES))],
    region: Region = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """The KPI registry rows of your regions."""
    check_region(principal, region)
    frame = _filter(in_regions(published(settings.published_dir, "kpis"), principal), region=region)
    return page(request, frame, sort=("kpi_id", "region"), limit=limit, cursor=cursor)


observations = _router("observations")


@observations.get("/observations", response_model=models.Page[models.Observation])
def list_observations(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*ALL_ROLES))],
    kpi_id: KpiId = None,
    region: Region = None,
    as_of: Annotated[datetime | None, Query(description="read the warehouse as it was at this time")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Observations of your regions: the published set, or the warehouse as of a vintage (``as_of``)."""
    check_region(principal, region)
    if as_of is not None:
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(UTC).replace(tzinfo=None)  # vintages are naive UTC
        if not settings.warehouse_path.exists():
            raise ProblemError(503, "the warehouse is not built yet; run `dtscope ingest` or `dtscope demo`")
        frame = backend.observations_as_of(settings.home, as_of, kpi_id=kpi_id, region=region)
    else:
        frame = published(settings.published_dir, "observations")
    frame = _filter(in_regions(frame, principal), kpi_id=kpi_id, region=region)
    return page(request, frame, sort=("kpi_id", "region", "period", "source", "vintage"), limit=limit, cursor=cursor)


forecasts = _router("forecasts")


@forecasts.get("/forecasts", response_model=models.Page[models.Forecast])
def list_forecasts(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*ALL_ROLES))],
    kpi_id: KpiId = None,
    region: Region = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Forecast quantiles of your regions' KPIs."""
    check_region(principal, region)
    frame = _filter(in_regions(published(settings.published_dir, "forecasts"), principal), kpi_id=kpi_id, region=region)
    return page(request, frame, sort=("kpi_id", "region", "period", "model"), limit=limit, cursor=cursor)


attainment = _router("attainment")


@attainment.get("/attainment", response_model=models.Page[models.Attainment])
def list_attainment(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*ALL_ROLES))],
    kpi_id: KpiId = None,
    region: Region = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Probability of reaching each target, for your regions."""
    check_region(principal, region)
    frame = _filter(in_regions(published(settings.published_dir, "attainment"), principal), kpi_id=kpi_id, region=region)
    return page(request, frame, sort=("kpi_id", "region", "target_year"), limit=limit, cursor=cursor)


scenarios = _router("scenarios")


@scenarios.get("/scenarios", response_model=models.Page[models.Scenario])
def list_scenarios(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*ALL_ROLES))],
    region: Region = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Scenarios of your regions (owners: their department's)."""
    check_region(principal, region)
    frame = _filter(scenario_scope(settings.published_dir, principal), region=region)
    return page(request, frame, sort=("scenario_id",), limit=limit, cursor=cursor)


def _of_visible_scenarios(settings: ServiceSettings, principal: Principal, name: str, region: str | None) -> pl.DataFrame:
    visible = _filter(scenario_scope(settings.published_dir, principal), region=region).select("scenario_id")
    frame = published(settings.published_dir, name)
    return frame.join(visible, on="scenario_id", how="semi")


scores = _router("scores")


@scores.get("/scores", response_model=models.Page[models.Score])
def list_scores(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*ALL_ROLES))],
    region: Region = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Scenario scores, grades and rank intervals (scenarios you may see)."""
    check_region(principal, region)
    frame = _of_visible_scenarios(settings, principal, "scores", region)
    return page(request, frame, sort=("scheme", "period", "scenario_id"), limit=limit, cursor=cursor)


efficacy = _router("efficacy")


@efficacy.get("/efficacy", response_model=models.Page[models.Efficacy])
def list_efficacy(
    request: Request,
    *,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(*ALL_ROLES))],
    region: Region = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Effect estimates per scenario and outcome (scenarios you may see)."""
    check_region(principal, region)
    frame = _of_visible_scenarios(settings, principal, "efficacy", region)
    return page(request, frame, sort=("scenario_id", "outcome", "method"), limit=limit, cursor=cursor)


runs = _router("runs")


@runs.get("/runs", response_model=models.Page[models.Run])
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


ROUTERS = (kpis, observations, forecasts, attainment, scenarios, scores, efficacy, runs)
