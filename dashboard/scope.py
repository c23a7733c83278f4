"""Who is looking, and which published rows they may see (pure functions on frames).

Under ``dtscope serve`` the service puts the authenticated principal into the WSGI environ under
:data:`PRINCIPAL_ENVIRON_KEY`; the dashboard types it with :class:`Viewer` (a ``Protocol``, so the dashboard
does not import the service). Every table the dashboard reads goes through :func:`scope_frame`, so pages,
callbacks, exports and the brief filter the same way, on the server:

- tables with a ``region`` column keep the viewer's regions;
- tables keyed by ``scenario_id`` keep the scenarios the viewer may see: those of its regions and, for an
  ``owner``, those whose ``owner`` is its department;
- ``runs`` keep the per-series runs of the viewer's regions (their ``params_json`` names the region) and
  the whole-pipeline runs; ``rejects`` keep rows whose raw input names a region in scope;
- model-level tables (``backtest_metrics``, ``calibration``, ``weights``) and ``ingests`` (counts per file)
  carry no district's rows and are kept.

In development mode (``dtscope dashboard``, no principal) the scope is :data:`EVERYTHING`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from dashboard.i18n import REGION_NAMES

PRINCIPAL_ENVIRON_KEY = "dtscope.principal"
ALL_REGIONS = "*"


class Viewer(Protocol):
    """What the dashboard asks of the service's principal (``service.Principal`` satisfies it)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def regions(self) -> tuple[str, ...]: ...
    @property
    def department(self) -> str | None: ...
    @property
    def csrf_token(self) -> str | None: ...
    @property
    def can_promote(self) -> bool: ...
    def can_read_region(self, region: str) -> bool: ...
    def can_ingest_region(self, region: str) -> bool: ...


@dataclass(frozen=True)
class Scope:
    """The rows a viewer may see.

    Attributes:
        regions: region ids in scope, or None for every region.
        department: when set, only the scenarios whose ``owner`` equals it (an owner's department);
            ``department_only`` with ``department=None`` sees no scenario.
        department_only: restrict scenarios to ``department``.
    """

    regions: frozenset[str] | None = None
    department: str | None = None
    department_only: bool = False

    @property
    def everything(self) -> bool:
        return self.regions is None and not self.department_only


EVERYTHING = Scope()

# Tables with neither a region nor a scenario: model-level figures and per-file ingest counts.
UNSCOPED = frozenset({"backtest_metrics", "calibration", "weights", "ingests"})


def scope_of(viewer: Viewer | None) -> Scope:
    """The :class:`Scope` of a viewer (None: development mode, everything).

    >>> from types import SimpleNamespace as P
    >>> scope_of(P(role="evaluator", regions=("hongkou",), department=None)).regions
    frozenset({'hongkou'})
    >>> scope_of(P(role="owner", regions=("*",), department="区科经委"))
    Scope(regions=None, department='区科经委', department_only=True)
    """
    if viewer is None:
        return EVERYTHING
    regions = None if ALL_REGIONS in viewer.regions else frozenset(viewer.regions)
    if viewer.role == "owner":
        return Scope(regions, viewer.department, department_only=True)
    return Scope(regions)


def visible_scenarios(scenarios: pl.DataFrame | None, scope: Scope) -> pl.Series | None:
    """``scenario_id`` of the scenarios in scope (None: every scenario is visible)."""
    if scope.everything:
        return None
    if scenarios is None:
        return pl.Series("scenario_id", [], dtype=pl.String)
    kept = scenarios
    if scope.regions is not None:
        kept = kept.filter(pl.col("region").is_in(sorted(scope.regions)))
    if scope.department_only:
        kept = kept.filter(pl.col("owner") == scope.department) if scope.department else kept.clear()
    return kept["scenario_id"]


def _run_region(params_json: str | None) -> str | None:
    try:
        params = json.loads(params_json or "{}")
    except ValueError:
        return None
    region = params.get("region") if isinstance(params, dict) else None
    return str(region) if region else None


def _region_aliases(regions: Iterable[str]) -> list[str]:
    """Ids and display names (zh, en) of ``regions``, lower-cased: how raw input rows may name them."""
    out = set()
    for r in regions:
        out.add(r.lower())
        out.update(n.lower() for n in REGION_NAMES.get(r, ()))
    return sorted(out)


def scope_frame(name: str, frame: pl.DataFrame, scope: Scope, scenarios: pl.DataFrame | None = None) -> pl.DataFrame:
    """The rows of published table ``name`` that ``scope`` may see.

    Args:
        name: the published table's name.
        frame: its rows (not modified).
        scope: the viewer's scope.
        scenarios: the published ``scenarios`` table, for tables keyed by ``scenario_id`` (and ``scores``,
            whose owner restriction comes from it).

    Returns:
        The visible rows, same columns.

    >>> f = pl.DataFrame({"kpi_id": ["a", "a"], "region": ["pudong", "hongkou"]})
    >>> scope_frame("kpis", f, Scope(frozenset({"hongkou"})))["region"].to_list()
    ['hongkou']
    """
    if scope.everything or name in UNSCOPED:
        return frame
    out = frame
    if scope.regions is not None and "region" in out.columns:
        out = out.filter(pl.col("region").is_in(sorted(scope.regions)))
    if "scenario_id" in out.columns and (name != "scenarios" or scope.department_only):
        ids = visible_scenarios(scenarios if name != "scenarios" else frame, scope)
        if ids is not None:
            out = out.filter(pl.col("scenario_id").is_in(ids.to_list()))
    if name == "runs" and scope.regions is not None:
        region = out["params_json"].map_elements(_run_region, return_dtype=pl.String)
        out = out.filter(region.is_null() | region.is_in(sorted(scope.regions)))
    if name == "rejects" and scope.regions is not None:
        said = out["raw"].str.json_path_match("$.region").str.to_lowercase()
        out = out.filter(said.is_in(_region_aliases(scope.regions)).fill_null(False))
    return out


INGEST_ROLES = frozenset({"owner", "admin"})


def may_upload(viewer: Viewer | None, regions: Iterable[str]) -> bool:
    """Whether to offer the upload: development mode, or an owner/admin of one of ``regions`` (the
    published KPIs' regions) in the viewer's scope.

    >>> from types import SimpleNamespace as P
    >>> owner = P(role="owner", can_ingest_region=lambda r: r == "hongkou")
    >>> may_upload(None, []), may_upload(owner, ["pudong", "hongkou"]), may_upload(owner, ["pudong"])
    (True, True, False)
    """
    if viewer is None:
        return True
    return viewer.role in INGEST_ROLES and any(viewer.can_ingest_region(r) for r in regions)


def outside_ingest_scope(viewer: Viewer | None, regions: Iterable[str]) -> list[str]:
    """Regions among ``regions`` (an upload's rows) the viewer may not ingest for (none in development mode)."""
    if viewer is None:
        return []
    return sorted({r for r in regions if r is not None and not viewer.can_ingest_region(r)})
