"""The KPI and region registries: YAML data files, validated on load.

Validation errors name the file and the key path (``indicators.5g_coverage.targets.0.target_kind``)
so whoever edits the YAML can find the line. The flattened ``kpis`` table (one row per indicator and
region) is checked against :class:`evaluation.tables.Kpis` before it is returned.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evaluation import tables
from evaluation.yaml_config import load_yaml, validation_message
from pipelines.settings import REGISTRY_DIR

Kind = Literal["share", "count", "amount", "rate", "level"]
TargetKind = Literal["at_least", "at_most", "more_than", "range", "full", "level"]
Obligation = Literal["expected", "binding"]
OBLIGATION_ZH = {"expected": "预期性", "binding": "约束性"}


class RegistryError(ValueError):
    """A registry file is malformed; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    region: str
    target_kind: TargetKind
    target_value: float
    target_high: float | None = None
    target_label: str | None = None
    target_year: int = Field(ge=2000, le=2100)
    obligation: Obligation
    source: str = Field(min_length=1)
    quote: str = Field(min_length=1)

    @model_validator(mode="after")
    def _range_has_high(self) -> Target:
        if self.target_kind == "range":
            if self.target_high is None or self.target_high <= self.target_value:
                raise ValueError("a range target needs target_high greater than target_value")
        elif self.target_high is not None:
            raise ValueError(f"target_high is only for range targets, not {self.target_kind}")
        return self


class Baseline(_Strict):
    region: str
    year: int = Field(ge=1990, le=2100)
    value: float
    source: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class Indicator(_Strict):
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    kind: Kind
    direction: Literal["up", "down"]
    lower: float | None = None
    upper: float | None = None
    precision: float = Field(gt=0)
    cumulative: bool = False
    survey: bool = False
    levels: list[str] | None = None
    levels_note: str | None = None
    targets: list[Target] = Field(default_factory=list)
    baselines: list[Baseline] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        self._check_bounds()
        for i, t in enumerate(self.targets):
            self._check_target(f"targets.{i}", t)
        regions = [t.region for t in self.targets]
        if len(regions) != len(set(regions)):
            raise ValueError(
                "two targets for the same region: the kpis table holds one target per indicator and region"
            )
        return self

    def _check_bounds(self) -> None:
        """Natural bounds fit the kind; a level indicator's bounds are its level positions."""
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        if self.kind == "share" and (self.lower != 0 or self.upper != 100):
            raise ValueError("a share is stored in percent: lower must be 0 and upper 100")
        if self.kind in ("count", "amount") and (self.lower is None or self.lower < 0):
            raise ValueError(f"a {self.kind} needs lower >= 0")
        if self.kind == "level":
            if not self.levels or len(set(self.levels)) != len(self.levels):
                raise ValueError("a level indicator needs `levels`: distinct names ordered low to high")
            if self.lower != 0 or self.upper != len(self.levels) - 1:
                raise ValueError(f"a level indicator's bounds must be 0 and {len(self.levels) - 1}")
        elif self.levels is not None:
            raise ValueError("`levels` is only for kind: level")

    def _check_target(self, where: str, t: Target) -> None:
        """A target of the indicator's kind, inside its bounds (a level target names one of its levels)."""
        if (t.target_kind == "level") != (self.kind == "level"):
            raise ValueError(f"{where}: target_kind level goes with kind level, and only with it")
        if t.target_kind == "level":
            assert self.levels is not None
            if t.target_label not in self.levels:
                raise ValueError(f"{where}: target_label {t.target_label!r} is not one of {self.levels}")
            if self.levels.index(t.target_label) != t.target_value:
                raise ValueError(f"{where}: target_value must be the position of {t.target_label!r}")
        if t.target_kind == "full" and (self.kind != "share" or t.target_value != self.upper):
            raise ValueError(f"{where}: a full-coverage target is 100 on a share")
        for name, v in (("target_value", t.target_value), ("target_high", t.target_high)):
            if v is not None and (
                (self.lower is not None and v < self.lower) or (self.upper is not None and v > self.upper)
            ):
                raise ValueError(f"{where}: {name} {v} is outside the bounds [{self.lower}, {self.upper}]")


class KpiFile(_Strict):
    indicators: dict[str, Indicator]


class Region(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    level: Literal["city", "district"]
    aliases: list[str] = Field(default_factory=list)


class RegionFile(_Strict):
    regions: list[Region]


def _fold(text: str) -> str:
    """Normalise a label for matching: NFKC (full-width → ASCII), trimmed, case-folded.

    >>> _fold("  Ｐｕｄｏｎｇ ")
    'pudong'
    """
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass(frozen=True)
class Registry:
    """The validated KPI and region registries.

    Attributes:
        indicators: kpi_id → :class:`Indicator`.
        regions: region id → :class:`Region`.
        kpi_path: the file the indicators came from (for error messages and ``source``).
    """

    indicators: dict[str, Indicator]
    regions: dict[str, Region]
    kpi_path: Path

    @cached_property
    def _region_lookup(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for r in self.regions.values():
            for label in (r.id, r.name_zh, r.name_en, *r.aliases):
                lookup[_fold(label)] = r.id
        return lookup

    def region_id(self, label: str) -> str | None:
        """Map a region label as written in a file (id, Chinese or English name, alias) to its id.

        >>> load_registry().region_id("浦东新区"), load_registry().region_id("HONGKOU")
        ('pudong', 'hongkou')
        """
        return self._region_lookup.get(_fold(label))

    def kpis_table(self) -> pl.DataFrame:
        """The ``kpis`` table: one row per indicator and region (targets, then baseline-only rows).

        Columns are :class:`evaluation.tables.Kpis`' columns; an indicator with baselines but no target in a
        region appears with null target fields.
        """
        rows: list[dict[str, Any]] = []
        for kpi_id, ind in self.indicators.items():
            common = {
                "kpi_id": kpi_id,
                "name_zh": ind.name_zh,
                "name_en": ind.name_en,
                "unit": ind.unit,
                "kind": ind.kind,
                "direction": ind.direction,
                "lower": ind.lower,
                "upper": ind.upper,
                "precision": ind.precision,
                "cumulative": ind.cumulative,
                "survey": ind.survey,
                "levels": "|".join(ind.levels) if ind.levels else None,
            }
            target_regions = set()
            for t in ind.targets:
                target_regions.add(t.region)
                rows.append(
                    common
                    | {
                        "region": t.region,
                        "target_kind": t.target_kind,
                        "target_value": t.target_value,
                        "target_high": t.target_high,
                        "target_label": t.target_label,
                        "target_year": t.target_year,
                        "obligation": t.obligation,
                        "source": t.source,
                    }
                )
            for b in ind.baselines:
                if b.region in target_regions:
                    continue
                target_regions.add(b.region)
                rows.append(
                    common
                    | {
                        "region": b.region,
                        "target_kind": None,
                        "target_value": None,
                        "target_high": None,
                        "target_label": None,
                        "target_year": None,
                        "obligation": None,
                        "source": b.source,
                    }
                )
        frame = pl.DataFrame(rows, schema=tables.dtypes(tables.Kpis))
        return tables.validate(frame, tables.Kpis, what=str(self.kpi_path))

    def baselines_table(self) -> pl.DataFrame:
        """The plans' baseline facts as long-layout observation rows (``source`` cites the plan)."""
        rows = [
            {
                "kpi_id": kpi_id,
                "region": b.region,
                "period": str(b.year),
                "value": str(b.value),
                "source": f"plan: {b.source}",
                "status": "final",
                "note": b.quote,
            }
            for kpi_id, ind in self.indicators.items()
            for b in ind.baselines
        ]
        return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})


def load_registry(registry_dir: Path | None = None) -> Registry:
    """Load and validate ``kpis.yaml`` and ``regions.yaml``.

    Raises:
        RegistryError: naming the file and key of every problem found.
    """
    base = registry_dir or REGISTRY_DIR
    region_path, kpi_path = base / "regions.yaml", base / "kpis.yaml"
    try:
        region_file = RegionFile.model_validate(load_yaml(region_path, RegistryError))
    except ValidationError as exc:
        raise RegistryError(validation_message(region_path, exc)) from exc
    regions = {r.id: r for r in region_file.regions}
    if len(regions) != len(region_file.regions):
        raise RegistryError(f"{region_path}: duplicate region id")
    try:
        kpi_file = KpiFile.model_validate(load_yaml(kpi_path, RegistryError))
    except ValidationError as exc:
        raise RegistryError(validation_message(kpi_path, exc)) from exc
    problems = []
    for kpi_id, ind in kpi_file.indicators.items():
        for i, t in enumerate(ind.targets):
            if t.region not in regions:
                problems.append(
                    f"  at key indicators.{kpi_id}.targets.{i}.region: unknown region {t.region!r}"
                )
        for i, b in enumerate(ind.baselines):
            if b.region not in regions:
                problems.append(
                    f"  at key indicators.{kpi_id}.baselines.{i}.region: unknown region {b.region!r}"
                )
    if problems:
        raise RegistryError("\n".join([f"{kpi_path}: {len(problems)} problem(s)", *problems]))
    return Registry(indicators=kpi_file.indicators, regions=regions, kpi_path=kpi_path)
