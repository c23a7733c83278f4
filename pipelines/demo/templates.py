"""The demo's templates: districts and streets, KPI shapes, scenario templates — data, validated on load.

They live in ``data/registry/demo/*.yaml`` (each file says what it holds). Everything there is an input to
the SYNTHETIC demo only; no number in it is a real figure.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipelines.settings import REGISTRY_DIR

DEMO_REGISTRY = REGISTRY_DIR / "demo"
Status = Literal["on_track", "at_risk", "off_track"]
Profile = Literal["iot", "health", "disposal", "life", "governance", "economy"]
Domain = Literal["life", "governance", "economy"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class District(_Strict):
    """A district the demo can draw: scenario-id code, relative size (plan districts only) and streets."""

    code: str = Field(pattern=r"^[A-Z]{2}$")
    size: float | None = Field(default=None, gt=0)
    streets: tuple[str, ...] = Field(min_length=3)


class Shape(_Strict):
    """How one indicator's annual history is drawn (see ``kpi_shapes.yaml``)."""

    family: Literal["logistic", "survey", "stock", "growth", "level", "flow"]
    first_year: int
    start: tuple[float, float]
    elasticity: float = 0.0
    noise: float = 0.05


class Template(_Strict):
    """One application-scenario template."""

    code: str
    name_zh: str
    name_en: str
    domain: Domain
    category: str
    owner: str
    outcome: str | None


class MetricScale(_Strict):
    """A profile's monthly scale at full maturity."""

    cases_per_month: float
    active_users: float
    median_handling_hours: float


class OutcomeSpec(_Strict):
    """A monthly street outcome series."""

    level: float  # typical street level per month
    season: float  # seasonal amplitude as a share of the district mean level
    peak_month: int = Field(ge=1, le=12)
    trend: float  # common trend per year, as a share of the district mean level
    decimals: int = Field(ge=0)


class _DistrictsFile(_Strict):
    districts: dict[str, District]


class _ShapesFile(_Strict):
    kpis: dict[str, Shape]
    defaults_by_kind: dict[str, Shape]
    scenario_count_kpis: dict[str, str]
    status_factor: dict[Status, tuple[float, float]]


class _ScenariosFile(_Strict):
    plan_districts: dict[str, tuple[Template, ...]]
    generic_pool: tuple[str, ...]
    budget_range: dict[Profile, tuple[float, float]]
    metric_scale: dict[Profile, MetricScale]
    outcomes: dict[str, OutcomeSpec]
    category_profile: dict[str, Profile]

    @model_validator(mode="after")
    def _pool_names_known(self) -> _ScenariosFile:
        known = {t.name_en for ts in self.plan_districts.values() for t in ts}
        unknown = [name for name in self.generic_pool if name not in known]
        if unknown:
            raise ValueError(f"generic_pool names no plan template: {unknown}")
        return self


class DemoTemplates(_Strict):
    """Everything the generator draws from, as one validated object."""

    districts: dict[str, District]
    shapes: _ShapesFile
    scenarios: _ScenariosFile

    @property
    def generic_pool(self) -> tuple[Template, ...]:
        """The templates other districts sample from, in the file's order."""
        by_name = {t.name_en: t for ts in self.scenarios.plan_districts.values() for t in ts}
        return tuple(by_name[name] for name in self.scenarios.generic_pool)

    def profile(self, category: str, domain: str) -> Profile:
        """The budget/metric profile of a scenario: its category's own, else its domain's."""
        return self.scenarios.category_profile.get(category) or cast(Profile, domain)


def _load(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def load_templates(folder: Path = DEMO_REGISTRY) -> DemoTemplates:
    """Read and validate ``districts.yaml``, ``kpi_shapes.yaml`` and ``scenarios.yaml`` from ``folder``.

    Raises:
        ValueError: a file breaks its layout; pydantic's message names the file's field.
    """
    try:
        districts = _DistrictsFile.model_validate(_load(folder / "districts.yaml")).districts
        shapes = _ShapesFile.model_validate(_load(folder / "kpi_shapes.yaml"))
        scenarios = _ScenariosFile.model_validate(_load(folder / "scenarios.yaml"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"demo templates in {folder.name}/: {exc}") from exc
    return DemoTemplates(districts=districts, shapes=shapes, scenarios=scenarios)
