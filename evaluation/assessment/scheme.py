"""Assessment schemes as data: a YAML tree of dimensions → indicators, validated on load.

A scheme file (``data/registry/assessment/<name>.yaml``) holds

* ``dimensions``: ``id → {name_zh, name_en, parent?, weight?}`` — any depth, ``parent`` names another
  dimension (no parent = top level; top-level dimensions become the ``score_<id>`` columns);
* ``indicators``: ``id → {parent, name_zh, name_en, unit, direction (benefit|cost), weight?,
  normalization (threshold|minmax|vector|sum|zscore), floor?, target?, source (metrics|efficacy),
  period_agg (mean|sum|last|max), required?, measurement_cv?}``; an indicator with ``source: judged`` is
  rated by evaluators in an assessment round and carries ``judged: {scale (0-100|1-5), anchors (text per
  level, required for 1-5), min_raters, combine (mean|median|trimmed_mean), trim?, max_spread?}``;
* ``weighting``: ``fixed`` (the ``weight`` fields; siblings must sum to 1), ``ahp`` (pairwise matrices
  in ``ahp_file``), ``entropy`` / ``critic`` (objective, over the indicators), or ``combined``
  (subjective × objective, ``linear`` with ``alpha`` or ``multiplicative``);
* ``aggregation`` (``wsm`` | ``topsis`` | ``vikor``), ``grades`` (cut points as data), ``benchmark``
  (the 标杆 rule), ``missing`` (renormalise or exclude), ``uncertainty`` and ``efficacy`` settings;
* optionally ``extends: other.yaml``: start from that scheme and override only the keys given
  (mappings merge key by key, anything else is replaced).

Every problem raises :class:`SchemeError` naming the file and the key path
(``indicators.on_time_rate.target``), so whoever edits the YAML can find the line.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evaluation.assessment.weights import (
    CR_LIMIT,
    InconsistentJudgementsError,
    aggregate_experts,
    ahp_weights,
)
from evaluation.yaml_config import load_yaml, validation_message

WEIGHT_TOL = 1e-6
ROOT = "root"


class SchemeError(ValueError):
    """A scheme (or its AHP file) is malformed; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dimension(_Strict):
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    parent: str | None = None
    weight: float | None = Field(default=None, ge=0, le=1)


JudgedScale = Literal["0-100", "1-5"]
SCALE_BOUNDS: dict[str, tuple[float, float]] = {"0-100": (0.0, 100.0), "1-5": (1.0, 5.0)}


class Judged(_Strict):
    """How evaluators rate a ``source: judged`` indicator.

    Attributes:
        scale: ``"0-100"`` (any number in range) or ``"1-5"`` (whole levels, each with an anchor text).
        anchors: level → what that level means (``{1: "...", …, 5: "..."}``); required for ``1-5``.
        min_raters: independent ratings a scenario needs before the round can be submitted.
        combine: how the ratings of one scenario combine into the indicator value.
        trim: share cut from each end by ``trimmed_mean``.
        max_spread: ratings of one cell further apart than this (max − min) are flagged; default a
            quarter of the scale's range.
    """

    scale: JudgedScale
    anchors: dict[int, str] = Field(default_factory=dict)
    min_raters: int = Field(default=2, ge=1)
    combine: Literal["mean", "median", "trimmed_mean"] = "mean"
    trim: float = Field(default=0.2, ge=0, lt=0.5)
    max_spread: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _anchors(self) -> Judged:
        lo, hi = SCALE_BOUNDS[self.scale]
        if self.scale == "1-5" and sorted(self.anchors) != [1, 2, 3, 4, 5]:
            raise ValueError(f"a 1-5 scale needs an anchor text for each level 1..5, got levels {sorted(self.anchors)}")
        bad = [k for k in self.anchors if not lo <= k <= hi]
        if bad:
            raise ValueError(f"anchor levels {bad} are outside the scale {self.scale}")
        if self.max_spread is not None and self.max_spread > hi - lo:
            raise ValueError(f"max_spread {self.max_spread:g} is wider than the scale {self.scale}")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        return SCALE_BOUNDS[self.scale]

    @property
    def spread_limit(self) -> float:
        lo, hi = self.bounds
        return self.max_spread if self.max_spread is not None else (hi - lo) / 4

    def check(self, value: float) -> str | None:
        """Why ``value`` is not a valid rating on this scale, or ``None``.

        >>> Judged(scale="1-5", anchors={i: str(i) for i in range(1, 6)}).check(3.5)
        '3.5 is not a whole level of the 1-5 scale'
        """
        lo, hi = self.bounds
        if not math.isfinite(value) or not lo <= value <= hi:
            return f"{value:g} is outside the scale {self.scale}"
        if self.scale == "1-5" and value != int(value):
            return f"{value:g} is not a whole level of the 1-5 scale"
        return None


class IndicatorSpec(_Strict):
    parent: str
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    direction: Literal["benefit", "cost"]
    weight: float | None = Field(default=None, ge=0, le=1)
    normalization: Literal["threshold", "minmax", "vector", "sum", "zscore"] = "threshold"
    floor: float | None = None
    target: float | None = None
    source: Literal["metrics", "efficacy", "judged"] = "metrics"
    period_agg: Literal["mean", "sum", "last", "max"] = "mean"
    required: bool = False
    measurement_cv: float | None = Field(default=None, ge=0, le=1)
    judged: Judged | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _thresholds(self) -> IndicatorSpec:
        if (self.source == "judged") != (self.judged is not None):
            raise ValueError("an indicator has a judged: block exactly when its source is judged")
        if self.judged is not None and self.normalization == "threshold":
            lo, hi = self.judged.bounds
            ends = (self.floor, self.target)
            if any(e is not None and not lo <= e <= hi for e in ends):
                raise ValueError(f"floor and target of a judged indicator lie on its scale {self.judged.scale}")
        if self.normalization == "threshold":
            if self.floor is None or self.target is None:
                raise ValueError("threshold scoring needs both floor and target")
            if self.direction == "benefit" and not self.target > self.floor:
                raise ValueError(
                    f"a benefit indicator needs target > floor, got floor {self.floor}, target {self.target}"
                )
            if self.direction == "cost" and not self.target < self.floor:
                raise ValueError(
                    f"a cost indicator needs target < floor, got floor {self.floor}, target {self.target}"
                )
        elif self.floor is not None or self.target is not None:
            raise ValueError(f"floor/target are only used by threshold scoring, not {self.normalization}")
        return self


class Weighting(_Strict):
    method: Literal["fixed", "ahp", "entropy", "critic", "combined"] = "fixed"
    ahp_file: str | None = None
    subjective: Literal["fixed", "ahp"] = "fixed"
    objective: Literal["entropy", "critic"] = "entropy"
    combine: Literal["linear", "multiplicative"] = "linear"
    alpha: float = Field(default=0.5, ge=0, le=1)
    critic_cost: Literal["reverse", "ignore"] = "reverse"

    @model_validator(mode="after")
    def _ahp_file(self) -> Weighting:
        uses_ahp = self.method == "ahp" or (self.method == "combined" and self.subjective == "ahp")
        if uses_ahp and not self.ahp_file:
            raise ValueError("AHP weighting needs ahp_file (a YAML of pairwise matrices next to the scheme)")
        return self


class Aggregation(_Strict):
    method: Literal["wsm", "topsis", "vikor"] = "wsm"
    vikor_v: float = Field(default=0.5, ge=0, le=1)


class Grade(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    min: float


class Benchmark(_Strict):
    label_zh: str = "标杆"
    label_en: str = "benchmark"
    min_grade: str
    min_probability: float = Field(default=0.8, ge=0, le=1)
    require_significant_effect: bool = True
    allow_missing: bool = False


class Results(_Strict):
    """How a round's results are applied: the lowest grade's scenarios get a rectification item due this many
    days after approval; the funds view reads the scheme's cost-per-case indicator (null when absent)."""

    rectification_days: int = Field(default=90, ge=1, le=3660)
    cost_indicator: str | None = "cost_per_case"


class Missing(_Strict):
    policy: Literal["renormalise", "exclude"] = "renormalise"
    max_missing_weight: float = Field(default=0.3, ge=0, le=1)


class Uncertainty(_Strict):
    n_draws: int = Field(default=2000, ge=100)
    concentration: float = Field(default=200.0, gt=0)
    measurement_cv: float = Field(default=0.05, ge=0, le=1)
    interval: tuple[float, float] = (0.05, 0.95)


class Efficacy(_Strict):
    min_pre: int = Field(default=6, ge=3)
    min_post: int = Field(default=6, ge=2)
    min_controls: int = Field(default=2, ge=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    prefer: Literal["did", "its"] = "did"
    outcome_direction: dict[str, Literal["up", "down"]] = Field(default_factory=dict)
    default_direction: Literal["up", "down"] = "down"


class SchemeFile(_Strict):
    scheme: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    source: str = Field(min_length=1)
    scale: float = Field(default=100.0, gt=0)
    rank_scope: Literal["region", "all"] = "region"
    weighting: Weighting = Field(default_factory=Weighting)
    aggregation: Aggregation = Field(default_factory=Aggregation)
    grades: list[Grade] = Field(min_length=2)
    benchmark: Benchmark
    results: Results = Field(default_factory=Results)
    missing: Missing = Field(default_factory=Missing)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    efficacy: Efficacy = Field(default_factory=Efficacy)
    dimensions: dict[str, Dimension] = Field(min_length=1)
    indicators: dict[str, IndicatorSpec] = Field(min_length=1)

    @field_validator("grades")
    @classmethod
    def _grades_ordered(cls, grades: list[Grade]) -> list[Grade]:
        mins = [g.min for g in grades]
        if any(a <= b for a, b in itertools.pairwise(mins)):
            raise ValueError(f"grade cut points must be listed best first, strictly decreasing; got {mins}")
        if mins[-1] != 0:
            raise ValueError("the last (worst) grade must start at 0 so every score gets a grade")
        if len({g.id for g in grades}) != len(grades):
            raise ValueError("grade ids must be distinct")
        return grades


class AhpMatrix(_Strict):
    order: list[str] = Field(min_length=2)
    experts: list[list[list[Any]]] = Field(min_length=1)
    allow_inconsistent: bool = False
    source: str | None = None


class AhpFile(_Strict):
    method: Literal["eigenvector", "geometric"] = "eigenvector"
    ri_table: Literal["saaty", "tummala_ling"] = "saaty"
    max_cr: float = Field(default=CR_LIMIT, gt=0, le=1)
    matrices: dict[str, AhpMatrix]


@dataclass(frozen=True)
class Scheme:
    """A validated scheme with its tree resolved.

    Attributes:
        spec: the parsed file.
        path: where it came from (quoted in errors and in ``source`` columns).
        indicator_ids: leaves in file order; the columns of every matrix the engine builds.
        top_dimensions: top-level dimension ids (the ``score_<id>`` columns).
        local_weights: node id → weight among its siblings (``None`` when objective weights decide).
        top_of: indicator id → its top-level dimension.
        children: node id (``"root"`` for the top) → its children, dimensions and indicators.
        ahp_cr: parent id → consistency ratio of the AHP matrix used for its children.
    """

    spec: SchemeFile
    path: Path
    indicator_ids: tuple[str, ...]
    top_dimensions: tuple[str, ...]
    local_weights: dict[str, float]
    top_of: dict[str, str]
    children: dict[str, tuple[str, ...]]
    ahp_cr: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.scheme

    @property
    def label(self) -> str:
        """``"<scheme> <version>"`` as written into the ``scheme`` column."""
        return f"{self.spec.scheme} {self.spec.version}"

    @property
    def types(self) -> NDArray[np.float64]:
        """+1 / -1 per indicator, in :attr:`indicator_ids` order."""
        return np.array(
            [1.0 if self.spec.indicators[i].direction == "benefit" else -1.0 for i in self.indicator_ids]
        )

    def subjective_weights(self) -> NDArray[np.float64]:
        """Global weights from the tree: product of local weights from the root down to each leaf.

        >>> s = load_scheme(DEFAULT_SCHEME)
        >>> float(s.subjective_weights().sum())
        1.0
        """
        out = []
        for ind in self.indicator_ids:
            w, node = 1.0, ind
            while node != ROOT:
                w *= self.local_weights[node]
                node = self.parent_of(node)
            out.append(w)
        arr = np.array(out)
        return arr / arr.sum()

    def parent_of(self, node: str) -> str:
        if node in self.spec.indicators:
            return self.spec.indicators[node].parent
        return self.spec.dimensions[node].parent or ROOT

    def leaves_under(self, node: str) -> tuple[str, ...]:
        """Indicator ids below ``node`` (a dimension id or ``"root"``), in :attr:`indicator_ids` order."""
        found: list[str] = []
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur in self.spec.indicators:
                found.append(cur)
            stack.extend(self.children.get(cur, ()))
        return tuple(i for i in self.indicator_ids if i in found)

    @property
    def judged_ids(self) -> tuple[str, ...]:
        """Indicators rated by evaluators (``source: judged``), in file order."""
        return tuple(i for i in self.indicator_ids if self.spec.indicators[i].source == "judged")

    def judged(self, indicator_id: str) -> Judged:
        """The rating rules of a judged indicator (``KeyError`` for any other id)."""
        spec = self.spec.indicators[indicator_id].judged
        if spec is None:
            raise KeyError(indicator_id)
        return spec

    def error(self, key: str, message: str) -> SchemeError:
        """A :class:`SchemeError` naming this scheme's file and ``key``."""
        return SchemeError(f"{self.path}: at key {key}: {message}")


PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SCHEME_DIR = PACKAGE_ROOT / "data" / "registry" / "assessment"
DEFAULT_SCHEME = SCHEME_DIR / "default.yaml"


def _judgement(value: Any, where: str) -> float:
    """One pairwise judgement: a number, a fraction string like ``"1/3"``, or ``null``/``"?"`` for missing.

    >>> _judgement("1/3", "x") == 1 / 3, math.isnan(_judgement(None, "x"))
    (True, True)
    """
    if value is None or value == "?":
        return math.nan
    if isinstance(value, bool):
        raise ValueError(f"{where}: {value!r} is not a judgement")
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(Fraction(str(value).strip()))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{where}: {value!r} is not a number or a fraction like 1/3") from None


def _tree(spec: SchemeFile, path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Children per node and the top-level ancestor of every indicator; raises on cycles and bad parents."""
    problems: list[str] = []
    clash = set(spec.dimensions) & set(spec.indicators)
    if ROOT in spec.dimensions or ROOT in spec.indicators:
        problems.append(f"  at key dimensions.{ROOT}: {ROOT!r} is reserved for the top of the tree")
    for c in sorted(clash):
        problems.append(f"  at key indicators.{c}: the id is also a dimension id; ids must be unique")
    for d, dim in spec.dimensions.items():
        if dim.parent is not None and dim.parent not in spec.dimensions:
            problems.append(f"  at key dimensions.{d}.parent: unknown dimension {dim.parent!r}")
    for i, ind in spec.indicators.items():
        if ind.parent not in spec.dimensions:
            problems.append(f"  at key indicators.{i}.parent: unknown dimension {ind.parent!r}")
    if problems:
        raise SchemeError("\n".join([f"{path}: {len(problems)} problem(s)", *problems]))
    top: dict[str, str] = {}
    for d in spec.dimensions:
        seen = [d]
        node = d
        while (parent := spec.dimensions[node].parent) is not None:
            if parent in seen:
                cycle = " → ".join([*seen[seen.index(parent) :], parent])
                raise SchemeError(f"{path}: at key dimensions.{node}.parent: the tree has a cycle ({cycle})")
            seen.append(parent)
            node = parent
        top[d] = node
    children: dict[str, list[str]] = {ROOT: []}
    for d, dim in spec.dimensions.items():
        children.setdefault(dim.parent or ROOT, []).append(d)
    for i, ind in spec.indicators.items():
        children.setdefault(ind.parent, []).append(i)
    empty = [d for d in spec.dimensions if not children.get(d)]
    if empty:
        raise SchemeError(
            f"{path}: at key dimensions.{empty[0]}: a dimension needs at least one indicator below it"
        )
    return {k: tuple(v) for k, v in children.items()}, {
        i: top[ind.parent] for i, ind in spec.indicators.items()
    }


def _key(spec: SchemeFile, node: str) -> str:
    return f"indicators.{node}" if node in spec.indicators else f"dimensions.{node}"


def _fixed_weights(spec: SchemeFile, path: Path, children: dict[str, tuple[str, ...]]) -> dict[str, float]:
    local: dict[str, float] = {}
    for parent, kids in children.items():
        ws = []
        for k in kids:
            w = spec.indicators[k].weight if k in spec.indicators else spec.dimensions[k].weight
            if w is None:
                raise SchemeError(
                    f"{path}: at key {_key(spec, k)}.weight: missing (fixed weighting needs every weight)"
                )
            ws.append(w)
        total = sum(ws)
        if abs(total - 1.0) > WEIGHT_TOL:
            keys = ", ".join(f"{_key(spec, k)}.weight={w:g}" for k, w in zip(kids, ws, strict=True))
            raise SchemeError(
                f"{path}: at key {_key(spec, kids[0])}.weight: the weights under {parent!r} sum to {total:.6g}, "
                f"not 1 ({keys})"
            )
        local.update(dict(zip(kids, ws, strict=True)))
    return local


def _ahp_local_weights(
    spec: SchemeFile, scheme_path: Path, children: dict[str, tuple[str, ...]], ahp_data: Any = None
) -> tuple[dict[str, float], dict[str, float]]:
    assert spec.weighting.ahp_file is not None
    path = scheme_path.parent / spec.weighting.ahp_file
    try:
        ahp = AhpFile.model_validate(load_yaml(path, SchemeError) if ahp_data is None else ahp_data)
    except ValidationError as exc:
        raise SchemeError(validation_message(path, exc)) from exc
    local: dict[str, float] = {}
    crs: dict[str, float] = {}
    for parent, kids in children.items():
        key = f"matrices.{parent}"
        if len(kids) == 1:
            local[kids[0]] = 1.0
            continue
        if parent not in ahp.matrices:
            raise SchemeError(
                f"{path}: at key {key}: missing; the scheme's node {parent!r} has children {list(kids)}"
            )
        m = ahp.matrices[parent]
        if sorted(m.order) != sorted(kids):
            raise SchemeError(
                f"{path}: at key {key}.order: {m.order} must list exactly the children {sorted(kids)}"
            )
        mats = []
        for e, rows in enumerate(m.experts):
            where = f"{key}.experts.{e}"
            if len(rows) != len(kids) or any(len(r) != len(kids) for r in rows):
                raise SchemeError(f"{path}: at key {where}: must be a {len(kids)}×{len(kids)} matrix")
            try:
                mats.append(np.array([[_judgement(v, where) for v in r] for r in rows]))
            except ValueError as exc:
                raise SchemeError(f"{path}: at key {where}: {exc}") from exc
        try:
            pooled = aggregate_experts(mats)
            w, cr = ahp_weights(
                pooled,
                method=ahp.method,
                ri_table=ahp.ri_table,
                max_cr=None if m.allow_inconsistent else ahp.max_cr,
            )
        except InconsistentJudgementsError as exc:
            raise SchemeError(f"{path}: at key {key}: {exc}") from exc
        except ValueError as exc:
            raise SchemeError(f"{path}: at key {key}: {exc}") from exc
        local.update(dict(zip(m.order, w.tolist(), strict=True)))
        crs[parent] = cr
    return local, crs


def parse_scheme(data: Any, path: Path, *, ahp_data: Any = None) -> Scheme:
    """Validate scheme data already read from ``path`` (see :func:`load_scheme`).

    ``ahp_data`` replaces reading the AHP file the scheme names (a round keeps both frozen).
    """
    try:
        spec = SchemeFile.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(validation_message(path, exc)) from exc
    children, top_of = _tree(spec, path)
    grade_ids = [g.id for g in spec.grades]
    if spec.benchmark.min_grade not in grade_ids:
        raise SchemeError(
            f"{path}: at key benchmark.min_grade: {spec.benchmark.min_grade!r} is not one of {grade_ids}"
        )
    if spec.grades[0].min > spec.scale:
        raise SchemeError(
            f"{path}: at key grades.0.min: {spec.grades[0].min} is above the scale {spec.scale}"
        )
    crs: dict[str, float] = {}
    method = spec.weighting.method
    if method == "ahp" or (method == "combined" and spec.weighting.subjective == "ahp"):
        local, crs = _ahp_local_weights(spec, path, children, ahp_data)
    elif method in ("fixed", "combined"):
        local = _fixed_weights(spec, path, children)
    else:
        # Objective weights are computed from the data at scoring time; the tree then only groups.
        local = {}
        for kids in children.values():
            local.update({k: 1.0 / len(kids) for k in kids})
    top = tuple(d for d in children[ROOT] if d in spec.dimensions)
    indicator_ids = tuple(spec.indicators)
    return Scheme(
        spec=spec,
        path=path,
        indicator_ids=indicator_ids,
        top_dimensions=top,
        local_weights=local,
        top_of=top_of,
        children=children,
        ahp_cr=crs,
    )


def load_scheme(path: Path | str = DEFAULT_SCHEME) -> Scheme:
    """Load and validate a scheme YAML (and the AHP file it names).

    Args:
        path: the scheme file; default ``data/registry/assessment/default.yaml``.

    Returns:
        The validated :class:`Scheme`.

    Raises:
        SchemeError: naming the file and key of the problem (cycle, weights not summing to 1, CR too
            high, unknown parent, bad thresholds, …).

    >>> load_scheme().top_dimensions
    ('demand', 'problem', 'effect', 'funds', 'data')
    """
    p = Path(path)
    return parse_scheme(_resolve_extends(p, ()), p)


def resolve_scheme_data(path: Path | str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The scheme's data with ``extends`` merged in, and the data of the AHP file it names (or ``None``).

    Together they are everything :func:`parse_scheme` reads, so a copy of both freezes the scheme.
    """
    p = Path(path)
    data = _resolve_extends(p, ())
    if not isinstance(data, dict):
        raise SchemeError(f"{p}: a scheme file is a mapping of keys, not {type(data).__name__}")
    weighting = data.get("weighting") or {}
    ahp_file = weighting.get("ahp_file") if isinstance(weighting, dict) else None
    ahp = load_yaml(p.parent / str(ahp_file), SchemeError) if ahp_file else None
    return data, ahp


def _merge(base: Any, override: Any) -> Any:
    """Deep merge of mappings (``override`` wins); any other value is replaced whole.

    >>> _merge({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]})
    {'a': {'x': 1, 'y': 3}, 'b': [2]}
    """
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return override


def _resolve_extends(path: Path, chain: tuple[Path, ...]) -> Any:
    """Read ``path``; if it says ``extends: other.yaml``, merge it over that file (recursively)."""
    data = load_yaml(path, SchemeError)
    if not isinstance(data, dict) or "extends" not in data:
        return data
    parent = path.parent / str(data.pop("extends"))
    if parent.resolve() in {c.resolve() for c in (*chain, path)}:
        names = " → ".join(str(c) for c in (*chain, path, parent))
        raise SchemeError(f"{path}: at key extends: the schemes extend each other in a cycle ({names})")
    return _merge(_resolve_extends(parent, (*chain, path)), data)
