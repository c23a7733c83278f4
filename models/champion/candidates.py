"""What the champion can be: a member, a combination of members, or per-series selection.

Candidates are small typed values (frozen, hashable, validated), never strings to parse. Their ``str``
is the label the product shows (``theta_np@raw``, ``mean(damped_np+drift)``, ``select``): the published
``model`` column reads ``dtscope:<label>``.

>>> str(Combination((Member("theta_np"), Member("drift", raw=True)), "median"))
'median(theta_np+drift@raw)'
>>> Combination(("theta_np", "drift")).members[1]
Member(name='drift', raw=False)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, ConfigDict
from pydantic.dataclasses import dataclass

STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=STRICT)
class Member:
    """A registered model (:data:`models.base.MODELS`) or ``pooled``, as a member of the champion.

    Attributes:
        name: the registered name.
        raw: fit it on the original scale and map its forecast to the model scale (linear trends in the
            original units rather than exponential ones on a log scale).
    """

    name: str
    raw: bool = False

    def __str__(self) -> str:
        return f"{self.name}@raw" if self.raw else self.name


def as_member(value: Any) -> Any:
    """Let a bare registered name stand for its member (``"drift"`` → ``Member("drift")``)."""
    return Member(value) if isinstance(value, str) else value


MemberField = Annotated[Member, BeforeValidator(as_member)]


@dataclass(frozen=True, config=STRICT)
class Combination:
    """The element-wise mean or median of two or more members' point forecasts."""

    members: tuple[MemberField, ...]
    how: Literal["mean", "median"] = "mean"

    def __str__(self) -> str:
        return f"{self.how}({'+'.join(str(m) for m in self.members)})"


@dataclass(frozen=True, config=STRICT)
class Selection:
    """Per-series selection: each series takes the member with the lowest backtest error.

    Scored honestly (:func:`models.champion.selection.select_points`): at each origin a series chooses from
    the backtest rows that ended before that origin.
    """

    def __str__(self) -> str:
        return "select"


Candidate = Member | Combination | Selection


def candidates(members: Sequence[Member], allow_select: bool = True) -> list[Candidate]:
    """Every member, the mean and the median of every subset of two or more members, and selection.

    >>> [str(c) for c in candidates([Member("a"), Member("b")], allow_select=False)]
    ['a', 'b', 'mean(a+b)', 'median(a+b)']
    """
    out: list[Candidate] = list(members)
    for k in range(2, len(members) + 1):
        for combo in itertools.combinations(members, k):
            out += [Combination(combo, "mean"), Combination(combo, "median")]
    return [*out, Selection()] if allow_select else out


def default_candidate(members: Sequence[Member]) -> Candidate:
    """The fallback: the mean of every member but ``naive`` (the member itself when only one is left).

    >>> str(default_candidate([Member("naive"), Member("drift"), Member("theta_np")]))
    'mean(drift+theta_np)'
    """
    simple = [m for m in members if m != Member("naive")]
    return Combination(tuple(simple), "mean") if len(simple) > 1 else members[0]


def uses_only(candidate: Candidate, members: Sequence[Member]) -> bool:
    """Whether ``candidate`` is built from ``members`` alone (selection never is a fixed centre).

    >>> uses_only(Member("pooled"), [Member("pooled")]), uses_only(Combination(("a", "b")), [Member("a")])
    (True, False)
    """
    if isinstance(candidate, Member):
        return candidate in members
    if isinstance(candidate, Combination):
        return all(m in members for m in candidate.members)
    return False


def combine(points: Sequence[np.ndarray], how: Literal["mean", "median"] = "mean") -> np.ndarray:
    """Element-wise mean or median over arrays of one shape; a new array.

    >>> combine([np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([8.0, 0.0])], "median").tolist()
    [3.0, 2.0]
    """
    stack = np.stack([np.asarray(p, dtype=float) for p in points])
    return np.median(stack, axis=0) if how == "median" else stack.mean(axis=0)


def points_of(candidate: Candidate, points: Mapping[Member, np.ndarray]) -> np.ndarray:
    """The point forecasts of a member or a combination, from the members' ``points``.

    >>> a, b, c = Member("a"), Member("b"), Member("c")
    >>> pts = {a: np.array([1.0]), b: np.array([5.0]), c: np.array([2.0])}
    >>> points_of(Combination((a, b, c), "median"), pts).tolist()
    [2.0]
    """
    if isinstance(candidate, Selection):
        raise ValueError("selection has no points of its own: it needs the backtest (see select_points)")
    parts = (candidate,) if isinstance(candidate, Member) else candidate.members
    unknown = [str(m) for m in parts if m not in points]
    if unknown:
        raise ValueError(f"candidate {candidate} names member(s) {unknown} that were not fitted")
    if isinstance(candidate, Member):
        return points[candidate]
    return combine([points[m] for m in candidate.members], candidate.how)


def read_label(label: str) -> Candidate:
    """The candidate a label names (``theta_np@raw``, ``mean(a+b)``, ``select``).

    Only for reading configurations stored before candidates were typed (an MLflow ``run_config`` tag);
    write candidates as objects.

    >>> read_label("median(theta_np@raw+drift)")
    Combination(members=(Member(name='theta_np', raw=True), Member(name='drift', raw=False)), how='median')
    """
    if label == "select":
        return Selection()
    how, paren, rest = label.partition("(")
    if paren:
        if how not in ("mean", "median") or not rest.endswith(")"):
            raise ValueError(f"unknown candidate {label!r}; use a member name, mean(a+b) or median(a+b)")
        return Combination(tuple(_read_member(m) for m in rest[:-1].split("+")), how)  # type: ignore[arg-type]
    return _read_member(label)


def _read_member(label: str) -> Member:
    return Member(label.removesuffix("@raw"), raw=True) if label.endswith("@raw") else Member(label)
