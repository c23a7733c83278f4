"""Recalibrating attainment probabilities on the panel's own backtest outcomes, borrowing when thin.

**Since the published distributions are recalibrated themselves**
(:mod:`evaluation.forecasting.interval_recalibration`), this map is fitted to their (already mapped)
probabilities, with ``n₀ = 100`` (:data:`pipelines.steps.forecast.ATTAINMENT_MAP_PRIOR` has the validation
figures). The figures in the rest of this docstring, except under *Then one per horizon* and *Events read as
published*, were measured before that change, with ``n₀ = 25``.

A district's panel is tens of short series: the champion's conformal pools there are a few dozen errors,
and its probabilities can be pulled towards ½ (or pushed away) in ways no single series reveals. The
whole-champion backtest (:func:`evaluation.forecasting.origin_backtest.champion_backtest`) gives, for every
group of the panel together, pairs of a probability ``p`` and the event it was about. A map fitted on those
pairs is the recalibration: the **beta calibration** of Kull, Silva Filho & Flach (2017),
``p' = σ(c + a·ln p − b·ln(1 − p))``. It holds Platt's logistic map ``σ(c + b·logit p)`` as the case
``a = b``, and lets the two tails move apart (a panel can be over-confident about misses and
under-confident about hits at once). The identity is ``a = b = 1, c = 0``; ``a, b ≥ 0`` keeps it
monotone.

**Borrowing strength.** The map is a penalised (pseudo-data) fit: the panel's own pairs, plus ``n₀``
pseudo-pairs spread over a reference set of pairs shipped with dtscope (``reference_attainment.csv``:
the champion's backtest pairs on district-sized panels cut from M3 yearly **training** parts, binned by
probability; written by ``python -m evaluation.bench.reference``). The reference's weight is
``n₀ / (n + n₀)``: Bühlmann's credibility weight, so a panel with few outcomes keeps the reference's
(nearly identity) map and one with thousands its own. ``n₀ = 25`` (:data:`DEFAULT_PRIOR`).

**One map per kind.** Shares, counts and levels are pulled in different directions, so each KPI kind
gets its own map (each borrowing from the reference as above).

**Then one per horizon** (:class:`KindMap`). On the district panels a kind's probabilities are too sharp one
year ahead and too flat three years ahead, and one map can only split the difference. Each backtested horizon
therefore gets a second beta map of the kind-mapped probabilities, shrunk towards the identity by
:data:`HORIZON_PRIOR` (100) pseudo-pairs on which the identity fits exactly; a target further out than the
backtest reached (it stops at 3) is read by the longest horizon's map. Chosen on validation draws by the rule
that chose ``n₀`` (:data:`pipelines.steps.forecast.ATTAINMENT_MAP_PRIOR`): the published, cross-fitted Brier
pooled by rows over the 2-district demo (its seed and seeds 1–6) and the 16-district demo's seeds 1–3,
differences under 0.0005 a tie. Without the stage 0.07993 (2-district 0.08684, 16-district 0.07791); with it,
at 25 / **100** / 400 pseudo-pairs, 0.07952 / **0.07941** / 0.07958 (2-district 0.08701 at 100, 16-district
0.07718). Said plainly: the stage was tried after the held-out 16-district table had been read, with the
event fix below, once (its bins 0.3–0.4 and 0.7–0.8 were 8.8 points off); the held-out draw itself chose
nothing, and the margin over no stage (0.00052) barely clears the tie rule.

**Events read as published.** A backtest event is ``y ≥ target``; its probability is
``1 − F(target⁻)`` (:func:`models.base.cdf_from_quantiles` with ``left=True``), read from the quantiles as
published (a share's snapped to its bound). Before, a flat window (growth ``g = 0``, so the target is the last
value) of a cumulative count, whose forecast is a point mass at that value, was published as a call of about
½ that always came true, and a share on its bound as a call of about 0; the maps learned from those pairs to
push every probability of the kind up. On the 16-district validation draws the fix alone took the pooled
Brier from 0.08739 to 0.07791 and the largest reliability gap (n ≥ 100) from 6.3 to 4.3 points.

**Choices, on the 2-district demo (validation) only.** Seven draws of it (the demo's seed and seeds 1–6;
the 16-district demo is the held-out report, never tuned on), 3,927 cross-fitted pairs, with the
champion's intervals as shipped (``models.champion.calibration.SCALE_PRIOR``): mean Brier 0.1007
unmapped, 0.1015 with the per-kind Platt map (``n₀ = 25``; 0.1011 with 100), 0.0976 with the per-kind
beta map (``n₀ = 25``; 0.0983 with 10, 0.0979 with 100). With the earlier, wider intervals: 0.1155
unmapped, 0.1091 Platt, 0.1033 beta (``n₀ = 25``); the published figure was 0.1652, the undamped fit's
(below). A prototype of hierarchical maps (each kind's shrunk towards the all-kinds map) did not beat
per-kind maps on Brier there. On this panel the amount and rate kinds have two series each, so one
fold of the cross-fit has none of their pairs and maps them by the reference alone: their 0.6–0.7 bin
(events nearly always) stays under-predicted in the cross-fitted table.

**Why Platt's map was too flat.** A logistic map fitted by likelihood on the logit scale is led by
confident misses: events at ``p = 0.005`` (a count that left its distribution, logit −5.3) pull the
slope towards 0, i.e. every probability towards the base rate, and the undamped Newton iteration used
before ran off to slopes of ``±10¹⁰`` on such a fold (two of the seven validation draws: the published
count Brier was 0.50). The fit now halves each Newton step until the likelihood rises (the likelihood
is concave, so this converges), and the beta map lets the lower tail's misses move ``b`` without
flattening ``a``.

**Honest reporting.** The published reliability and Brier must not score a map on the outcomes it was
fitted on: :func:`crossfit` maps each row with a map fitted on the *other* half of the series (split by
a stable hash of ``series_id``), and the final probabilities use the map fitted on every pair.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

REFERENCE = Path(__file__).with_name("reference_attainment.csv")
Reference = tuple[np.ndarray, np.ndarray, np.ndarray]
EPS = 1e-4
DEFAULT_PRIOR = 25.0
HORIZON_PRIOR = 100.0
"""The weight ``n₀`` of the identity in the horizon stage (:class:`KindMap`); see the module docstring."""
IDENTITY: Reference = (np.linspace(0.025, 0.975, 20), np.linspace(0.025, 0.975, 20), np.ones(20))
"""Pseudo-pairs on which the identity map fits exactly: what a horizon's map is shrunk towards."""


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(q / (1 - q))


@dataclass(frozen=True)
class BetaMap:
    """``p' = σ(c + a·ln p − b·ln(1 − p))``; the identity is ``a = b = 1, c = 0`` (Platt's map: ``a = b``).

    Attributes:
        a, b: the weights of ``ln p`` and ``−ln(1 − p)`` (``a = b > 1``: probabilities pushed away from ½;
            ``a ≠ b``: the two tails moved differently). c: the intercept.
        n: the panel's own pairs it was fitted on. weight: their weight ``n / (n + n₀)``.

    >>> BetaMap(2.0, 2.0).apply(np.array([0.25, 0.5, 0.75])).round(3).tolist()
    [0.1, 0.5, 0.9]
    """

    a: float = 1.0
    b: float = 1.0
    c: float = 0.0
    n: int = 0
    weight: float = 0.0

    def apply(self, p: np.ndarray) -> np.ndarray:
        """Recalibrated probabilities; exact 0 and 1 (an observed or impossible outcome) stay as they are."""
        p = np.asarray(p, dtype=float)
        out = _sigmoid(_features(p) @ np.array([self.c, self.a, self.b]))
        return np.where((p <= 0) | (p >= 1) | ~np.isfinite(p), p, out)


@dataclass(frozen=True)
class KindMap:
    """A kind's attainment map: its beta map, then (when fitted) a second beta map per backtest horizon.

    ``apply(p, h)`` maps by the kind's map, then by the map of horizon ``h`` (a horizon beyond the longest
    backtested one uses the longest's; ``h=None`` or a kind without horizon maps: the kind's map alone).

    >>> m = KindMap(BetaMap(), {1: BetaMap(2.0, 2.0), 3: BetaMap(0.5, 0.5)})
    >>> [round(float(m.apply(np.array([0.25]), h)[0]), 3) for h in (1, 2, 5, None)]
    [0.1, 0.25, 0.366, 0.25]
    """

    base: BetaMap = BetaMap()
    by_horizon: dict[int, BetaMap] = field(default_factory=dict)

    def apply(self, p: np.ndarray, h: int | np.ndarray | None = None) -> np.ndarray:
        """``p`` recalibrated for horizon ``h`` (one horizon, or one per probability)."""
        out = self.base.apply(p)
        if h is None or not self.by_horizon:
            return out
        hs = np.broadcast_to(np.asarray(h, dtype=int), out.shape)
        longest = max(self.by_horizon)
        for key in np.unique(hs):
            m = self.by_horizon.get(min(int(key), longest))
            if m is not None:
                out = np.where(hs == key, m.apply(out), out)
        return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))


def _features(p: np.ndarray) -> np.ndarray:
    """``1, ln p, −ln(1 − p)`` per probability (clipped to ``[EPS, 1 − EPS]``)."""
    q = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.column_stack([np.ones_like(q), np.log(q), -np.log1p(-q)])


def reference_pairs(path: Path = REFERENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shipped reference: per probability bin its mean probability, event frequency and count."""
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return (
        np.array([float(r["p"]) for r in rows]),
        np.array([float(r["freq"]) for r in rows]),
        np.array([float(r["n"]) for r in rows]),
    )


def _pseudo_data(
    p: np.ndarray, outcome: np.ndarray, prior: float, reference: Reference | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    """Features, outcomes and weights of the panel's pairs (those with ``0 < p < 1``) followed by ``prior``
    pseudo-pairs over the reference; the number of own pairs and their credibility weight."""
    p = np.asarray(p, dtype=float).ravel()
    e = np.asarray(outcome, dtype=float).ravel()
    ok = np.isfinite(p) & np.isfinite(e) & (p > 0) & (p < 1)
    p, e = p[ok], e[ok]
    ref_p, ref_f, ref_n = reference if reference is not None else reference_pairs()
    w_ref = prior * ref_n / ref_n.sum() if ref_n.sum() > 0 else np.zeros_like(ref_n)
    x = _features(np.concatenate([p, ref_p]))
    y = np.concatenate([e, ref_f])
    w = np.concatenate([np.ones(p.size), w_ref])
    weight = float(p.size / (p.size + prior)) if p.size + prior > 0 else 0.0
    return x, y, w, int(p.size), weight


def fit_map(
    p: np.ndarray, outcome: np.ndarray, *, prior: float = DEFAULT_PRIOR, reference: Reference | None = None
) -> BetaMap:
    """Fit the map on pairs ``(p, outcome)`` plus ``prior`` pseudo-pairs over the ``reference`` (default: shipped).

    Damped Newton–Raphson on the weighted logistic likelihood of the features ``1, ln p, −ln(1 − p)``. When
    a weight comes out negative (the map would fall towards one end) its term is dropped and the rest
    refitted, as Kull et al. do; when the remaining weight is negative too, the map is the constant that
    fits best.

    >>> rng = np.random.default_rng(0)
    >>> truth = rng.uniform(0.02, 0.98, 5000)
    >>> shrunk = 1 / (1 + np.exp(-0.5 * np.log(truth / (1 - truth))))   # pulled towards ½
    >>> m = fit_map(shrunk, (rng.uniform(size=5000) < truth).astype(float), prior=10.0)
    >>> round(float(np.abs(shrunk - truth).max()), 2), round(float(np.abs(m.apply(shrunk) - truth).max()), 2)
    (0.15, 0.02)
    >>> round(m.weight, 3)
    0.998
    """
    x, y, w, n, weight = _pseudo_data(p, outcome, prior, reference)
    if w.sum() == 0:
        return BetaMap()
    c, a, b = _newton(x, y, w, np.array([0.0, 1.0, 1.0]))
    if min(a, b) < 0:  # a negative weight would make the map fall somewhere: drop that term (as Kull et al.)
        keep = [0, 1] if b < a else [0, 2]
        c, v = _newton(x[:, keep], y, w, np.array([0.0, 1.0]))
        a, b = (v, 0.0) if keep[1] == 1 else (0.0, v)
        if v < 0:
            (c,) = _newton(x[:, :1], y, w, np.array([0.0]))
            a = b = 0.0
    return BetaMap(float(a), float(b), float(c), n, weight)


def fit_platt(
    p: np.ndarray, outcome: np.ndarray, *, prior: float = DEFAULT_PRIOR, reference: Reference | None = None
) -> BetaMap:
    """Platt's map (``a = b``) on the same pseudo-data as :func:`fit_map` (the design it replaced; kept to
    compare against).

    >>> m = fit_platt(np.array([0.2, 0.8]), np.array([0.0, 1.0]), prior=25.0)
    >>> m.a == m.b
    True
    """
    x, y, w, n, weight = _pseudo_data(p, outcome, prior, reference)
    if w.sum() == 0:
        return BetaMap()
    c, s = _newton(np.column_stack([x[:, 0], x[:, 1] + x[:, 2]]), y, w, np.array([0.0, 1.0]))
    return BetaMap(float(s), float(s), float(c), n, weight)


def _loglik(design: np.ndarray, y: np.ndarray, w: np.ndarray, theta: np.ndarray) -> float:
    eta = design @ theta
    # log σ(η) = −log(1 + e^{−η}), written so that no exponential overflows
    return float(np.sum(w * (y * -np.logaddexp(0.0, -eta) + (1 - y) * -np.logaddexp(0.0, eta))))


def _newton(design: np.ndarray, y: np.ndarray, w: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Maximise the weighted logistic log-likelihood from ``start``: Newton steps, each halved until the
    likelihood rises (a full step overshoots when the pairs nearly separate, and the undamped iteration
    ran off to ``|b| ≈ 10¹⁰``; the likelihood is concave, so halving converges).

    >>> x = np.column_stack([np.ones(4), [-1.0, -1.0, 1.0, 1.0]])
    >>> _newton(x, np.array([0.0, 1.0, 0.0, 1.0]), np.ones(4), np.array([0.0, 1.0])).round(6).tolist()
    [0.0, 0.0]
    """
    theta = start.astype(float).copy()
    k = theta.size
    ll = _loglik(design, y, w, theta)
    for _ in range(100):
        mu = _sigmoid(design @ theta)
        grad = design.T @ (w * (y - mu))
        hess = (design * (w * mu * (1 - mu))[:, None]).T @ design + 1e-9 * np.eye(k)
        step = np.linalg.solve(hess, grad)
        new = ll
        for _ in range(40):
            new = _loglik(design, y, w, theta + step)
            if new >= ll - 1e-12:
                break
            step = step / 2
        theta, ll = theta + step, max(new, ll)
        if np.max(np.abs(step)) < 1e-8:
            break
    return theta


def _pairs(frame: pl.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    cols = [c for c in frame.columns if c.startswith("p_k")]
    p = np.concatenate([frame[c].to_numpy().astype(float) for c in cols]) if cols else np.empty(0)
    e = (
        np.concatenate([frame[c.replace("p_k", "event_k")].to_numpy().astype(float) for c in cols])
        if cols
        else np.empty(0)
    )
    return cols, p, e


def fold_of(series_id: str) -> int:
    """A stable fold (0 or 1) of a series id, the same in every process and run.

    >>> fold_of("a"), fold_of("d")
    (1, 0)
    """
    return zlib.crc32(series_id.encode("utf-8")) % 2


def kind_of(frame: pl.DataFrame) -> str:
    """A backtest frame's kind (its ``kind`` column, one value per frame), ``""`` when it has none."""
    return str(frame["kind"][0]) if "kind" in frame.columns and frame.height else ""


def _horizons(frame: pl.DataFrame) -> np.ndarray:
    """Each attainment pair's horizon: the frame's ``h``, once per ``p_k`` column (the order of :func:`_pairs`)."""
    cols = [c for c in frame.columns if c.startswith("p_k")]
    return np.tile(frame["h"].to_numpy().astype(int), len(cols))


def _fit_kind(frames: list[pl.DataFrame], prior: float, horizon_prior: float | None) -> KindMap:
    """The kind's beta map on every pair of ``frames``, then (``horizon_prior`` not ``None``) per horizon a beta
    map of the kind-mapped probabilities, shrunk towards the identity with ``horizon_prior`` pseudo-pairs."""
    live = [f for f in frames if f.height]
    if not live:
        return KindMap(fit_map(np.empty(0), np.empty(0), prior=prior))
    parts = [_pairs(f) for f in live]
    p = np.concatenate([q for _, q, _ in parts])
    e = np.concatenate([o for _, _, o in parts])
    base = fit_map(p, e, prior=prior)
    if horizon_prior is None or not all("h" in f.columns for f in live):
        return KindMap(base)
    h = np.concatenate([_horizons(f) for f in live])
    mapped = base.apply(p)
    return KindMap(
        base,
        {
            int(k): fit_map(mapped[h == k], e[h == k], prior=horizon_prior, reference=IDENTITY)
            for k in np.unique(h)
        },
    )


def crossfit(
    frames: list[pl.DataFrame], *, prior: float = DEFAULT_PRIOR, horizon_prior: float | None = HORIZON_PRIOR
) -> list[pl.DataFrame]:
    """``frames`` with every ``p_k<k>`` column recalibrated by the map of its kind fitted on the other fold.

    One map per kind (the frames' ``kind`` column; frames without one form one kind) and fold: each row is
    mapped by the map fitted on the rows of its kind whose series fall in the other fold (a stable hash of
    ``series_id``), so no row is mapped by a map that saw its series; with ``horizon_prior``, that map's
    horizon stage for the row's ``h`` too (:class:`KindMap`).

    Args:
        frames: whole-champion backtest rows with ``series_id`` and ``p_k<k>`` / ``event_k<k>`` columns.
    """
    live = [f for f in frames if f.height and any(c.startswith("p_k") for c in f.columns)]
    maps: dict[tuple[str, int], KindMap] = {}
    for kind in sorted({kind_of(f) for f in live}):
        same = [f for f in live if kind_of(f) == kind]
        for fold in (0, 1):
            other = [
                f.filter(pl.Series([fold_of(str(s)) != fold for s in f["series_id"].to_list()])) for f in same
            ]
            maps[(kind, fold)] = _fit_kind(other, prior, horizon_prior)
    out = []
    for f in frames:
        if not (f.height and any(c.startswith("p_k") for c in f.columns)):
            out.append(f)
            continue
        folds = np.array([fold_of(str(s)) for s in f["series_id"].to_list()])
        h = f["h"].to_numpy().astype(int) if "h" in f.columns else None
        new = {}
        for c in [c for c in f.columns if c.startswith("p_k")]:
            v = f[c].to_numpy().astype(float).copy()
            for fold in (0, 1):
                at = folds == fold
                v[at] = maps[(kind_of(f), fold)].apply(v[at], None if h is None else h[at])
            new[c] = v
        out.append(f.with_columns(pl.Series(c, v) for c, v in new.items()))
    return out


def fit_by_kind(
    frames: list[pl.DataFrame], *, prior: float = DEFAULT_PRIOR, horizon_prior: float | None = HORIZON_PRIOR
) -> dict[str, KindMap]:
    """One map per kind, fitted on every attainment pair of that kind's frames (what final probabilities use)."""
    live = [f for f in frames if f.height]
    return {
        k: _fit_kind([f for f in live if kind_of(f) == k], prior, horizon_prior)
        for k in sorted({kind_of(f) for f in live})
    }
