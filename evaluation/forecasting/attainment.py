"""Target attainment: the probability that a KPI reaches its target, its status, and the growth view.

Every target kind of the registry is handled on a predictive distribution given as quantiles (one
row of increasing ``probs`` and matching ``quantiles`` at the target period). "Reached" is judged on
the *reported* figure, i.e. the value rounded at the KPI's reporting ``precision``:

========== ============================================ =====================================
kind       reached when the reported value …            event on the true value ``Y``
========== ============================================ =====================================
at_least   ≥ target                                     ``Y ≥ v − p/2``
more_than  > target (strictly)                          ``Y ≥ v + p/2``
at_most    ≤ target                                     ``Y < v + p/2``
range      within [target, target_high]                 ``v − p/2 ≤ Y < high + p/2``
full       = upper bound (100 % coverage)               ``Y ≥ upper − p/2``
level      at or above the ordinal level (0-based)      ``Y ≥ v − 1/2`` (levels round to integers)
========== ============================================ =====================================

Cumulative counts use ``at_least``/``more_than`` on a forecast that is already non-decreasing.

The likelihood words come from the one IPCC scale, :mod:`evaluation.likelihood` (its bins and edge
rules are documented there). Binding (约束性) targets must clear stricter status thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evaluation.likelihood import likelihood_words
from models.base import cdf_from_quantiles

TARGET_KINDS = ("at_least", "more_than", "at_most", "range", "full", "level")


def likelihood_term(p: float, lang: str = "en") -> str:
    """The IPCC likelihood words for probability ``p`` from the one scale, :mod:`evaluation.likelihood`.

    ``"unknown"`` (``"未知"``) for NaN.

    >>> likelihood_term(0.7), likelihood_term(0.95, "zh"), likelihood_term(0.33)
    ('likely', '很可能', 'unlikely')
    """
    words = likelihood_words(p, lang)
    if words is None:
        return "未知" if lang == "zh" else "unknown"
    return words


@dataclass(frozen=True)
class StatusThresholds:
    """Probability thresholds for the status of a target not yet achieved.

    Attributes:
        on_track: ``p_reach`` at or above this is on track (default 0.66, "likely").
        at_risk: at or above this (and below ``on_track``) is at risk (default 0.33, "about as
            likely as not"); below it off track ("unlikely").
        binding_on_track: on-track threshold for binding (约束性) targets (default 0.90, "very likely").
        binding_at_risk: at-risk threshold for binding targets (default 0.66, "likely").
    """

    on_track: float = 0.66
    at_risk: float = 0.33
    binding_on_track: float = 0.90
    binding_at_risk: float = 0.66

    def for_obligation(self, obligation: str | None) -> tuple[float, float]:
        """``(on_track, at_risk)`` for ``expected`` (or unknown) and ``binding`` targets."""
        if obligation == "binding":
            return self.binding_on_track, self.binding_at_risk
        return self.on_track, self.at_risk


def status(
    p_reach: float,
    *,
    achieved: bool = False,
    obligation: str | None = None,
    thresholds: StatusThresholds | None = None,
) -> str:
    """``achieved``, ``on_track``, ``at_risk`` or ``off_track``.

    >>> status(0.8), status(0.8, obligation="binding"), status(0.2), status(0.1, achieved=True)
    ('on_track', 'at_risk', 'off_track', 'achieved')
    """
    if achieved:
        return "achieved"
    on, risk = (thresholds or StatusThresholds()).for_obligation(obligation)
    if p_reach >= on:
        return "on_track"
    return "at_risk" if p_reach >= risk else "off_track"


@dataclass(frozen=True)
class Target:
    """A target as the registry states it, and the event "reached" it defines (see the module table).

    Attributes:
        kind: one of :data:`TARGET_KINDS`.
        value: the target value (for ``range`` its low end; for ``level`` the 0-based ordinal level).
        high: the high end of a ``range`` target.
        precision: the KPI's reporting precision (the reported figure is the value rounded to it).
        upper: the KPI's natural upper bound (a ``full`` target reaches it; nothing exceeds it).

    >>> Target("at_least", 80, precision=1).interval()
    (79.5, inf)
    >>> Target("full", 100, precision=0.1, upper=100).interval()
    (99.95, inf)
    >>> Target("full", 100, precision=0.1, upper=100).reached(99.96), Target("more_than", 500, precision=1).reached(500)
    (True, False)
    """

    kind: str
    value: float
    high: float | None = None
    precision: float = 0.0
    upper: float | None = None

    def interval(self) -> tuple[float, float]:
        """The event "reached" as an interval ``[lo, hi)`` of the true value."""
        half = self.precision / 2
        if self.kind == "at_least":
            return self.value - half, math.inf
        if self.kind == "more_than":
            return self.value + max(half, 0.0), math.inf
        if self.kind == "at_most":
            return -math.inf, self.value + half
        if self.kind == "range":
            if self.high is None or self.high < self.value:
                raise ValueError("a range target needs target_high ≥ target_value")
            return self.value - half, self.high + half
        if self.kind == "full":
            bound = self.value if self.upper is None else self.upper
            return bound - half, math.inf
        if self.kind == "level":
            return self.value - 0.5, math.inf
        raise ValueError(f"unknown target kind {self.kind!r}; use one of {', '.join(TARGET_KINDS)}")

    def reached(self, value: float) -> bool:
        """Whether an observed value reaches the target (on its reported precision)."""
        lo, hi = self.interval()
        return lo <= value < hi


def p_reach(probs: np.ndarray, quantiles: np.ndarray, target: Target) -> float:
    """Probability of reaching the target from one row of predictive quantiles.

    Args:
        probs: shape ``(k,)`` increasing probabilities. quantiles: shape ``(k,)`` matching quantiles.
        target: the target.

    >>> probs = np.array([0.1, 0.5, 0.9]); q = np.array([70.0, 80.0, 90.0])
    >>> round(p_reach(probs, q, Target("at_least", 80)), 3), round(p_reach(probs, q, Target("at_most", 80)), 3)
    (0.5, 0.5)
    >>> round(p_reach(probs, q, Target("range", 70, high=90)), 3)
    0.8
    >>> p_reach(probs, q, Target("more_than", 100, upper=100))
    0.0
    """
    if target.kind == "more_than" and target.upper is not None and target.value >= target.upper:
        return 0.0  # strictly above the natural upper bound cannot happen, whatever the quantile tails say
    lo, hi = target.interval()
    f_hi = 1.0 if math.isinf(hi) else cdf_from_quantiles(hi, probs, quantiles)
    f_lo = 0.0 if math.isinf(lo) else cdf_from_quantiles(lo, probs, quantiles)
    return float(min(max(f_hi - f_lo, 0.0), 1.0))


def compound_growth(first: float, last: float, years: float) -> float:
    """Compound annual growth ``(last / first)^(1/years) − 1``; NaN when undefined (non-positive values).

    >>> round(compound_growth(100, 121, 2), 6)
    0.1
    """
    if years <= 0 or first <= 0 or last <= 0:
        return math.nan
    return (last / first) ** (1.0 / years) - 1.0


def growth_view(
    periods: np.ndarray, values: np.ndarray, target_period: float, target_value: float
) -> tuple[float, float]:
    """The SDG-tracker view: anticipated (historical) vs required compound annual growth.

    Args:
        periods: observed periods as year numbers (fractional for sub-annual data), increasing.
        values: observed values. target_period: the target's year. target_value: the target.

    Returns:
        ``(anticipated_growth, required_growth)``, NaN where undefined.

    >>> growth_view(np.array([2019.0, 2021.0]), np.array([100.0, 121.0]), 2023.0, 146.41)
    (0.1, 0.1)
    """
    anticipated = compound_growth(float(values[0]), float(values[-1]), float(periods[-1] - periods[0]))
    required = compound_growth(float(values[-1]), target_value, float(target_period - periods[-1]))
    return round(anticipated, 12), round(required, 12)


def sdg_rule(anticipated: float, required: float, direction: str = ">=") -> float:
    """The 0/1 extrapolation rule: 1 if historical growth meets the growth required, else 0.

    >>> sdg_rule(0.1, 0.05), sdg_rule(0.1, 0.05, "<="), sdg_rule(float("nan"), 0.1)
    (1.0, 0.0, 0.0)
    """
    if math.isnan(anticipated) or math.isnan(required):
        return 0.0
    return float(anticipated >= required) if direction == ">=" else float(anticipated <= required)


def expected_period(
    periods: np.ndarray,
    medians: np.ndarray,
    target: Target,
    *,
    last_period: float,
    last_value: float,
    anticipated: float,
    max_years: int = 50,
) -> float:
    """First period the median forecast reaches the target; beyond the forecast, extrapolate growth.

    Args:
        periods: forecast periods (year numbers), increasing. medians: the median forecast per period.
        last_period, last_value: the last observation (returned if it already reaches the target).
        anticipated: historical compound growth used beyond the forecast horizon.

    Returns:
        The period, or NaN when the target is not reached within ``max_years`` at that growth.

    >>> expected_period(np.array([2022.0, 2023.0]), np.array([70.0, 85.0]), Target("at_least", 80),
    ...                 last_period=2021, last_value=60, anticipated=0.1)
    2023.0
    """
    reached, upper = target.reached, target.upper
    if reached(last_value):
        return float(last_period)
    for per, med in zip(periods, medians, strict=True):
        if reached(float(med)):
            return float(per)
    if math.isnan(anticipated) or len(medians) == 0 or medians[-1] <= 0:
        return math.nan
    value, per = float(medians[-1]), float(periods[-1])
    step = float(periods[-1] - periods[-2]) if len(periods) > 1 else 1.0
    for _ in range(int(max_years / step)):
        value *= (1 + anticipated) ** step
        per += step
        if upper is not None:
            value = min(value, upper)
        if reached(value):
            return per
    return math.nan


def what_if(
    probs: np.ndarray,
    quantiles: np.ndarray,
    target: Target,
    *,
    steps: int,
    extra_growth: float,
    lower: float | None = None,
    added_per_step: float = 0.0,
) -> float:
    """The probability of reaching the target if the KPI grew ``extra_growth`` more per year.

    The predictive quantiles at the target period (``steps`` years ahead) are multiplied by
    ``(1 + extra_growth)^steps``, then shifted by ``added_per_step × steps`` (e.g. scenarios added each
    year to a cumulative count), and clipped to the natural bounds.

    >>> probs = np.array([0.1, 0.5, 0.9]); q = np.array([70.0, 80.0, 90.0])
    >>> kw = {"steps": 1, "target": Target("at_least", 85)}
    >>> what_if(probs, q, extra_growth=0.0, **kw) < what_if(probs, q, extra_growth=0.1, **kw)
    True
    >>> round(what_if(probs, q, extra_growth=0.0, added_per_step=5.0, **kw), 3)  # the median moves to 85
    0.5
    >>> round(what_if(probs, q, extra_growth=0.0, added_per_step=2.5, **{**kw, "steps": 2}), 3)
    0.5
    """
    shifted = np.asarray(quantiles, dtype=float) * (1 + extra_growth) ** steps + added_per_step * steps
    upper = target.upper
    shifted = np.clip(shifted, -np.inf if lower is None else lower, np.inf if upper is None else upper)
    return p_reach(probs, shifted, target)
