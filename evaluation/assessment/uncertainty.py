"""Rank and grade uncertainty by Monte-Carlo, and weight sensitivity.

:func:`monte_carlo_ranks` draws weight vectors from a Dirichlet distribution centred on the chosen
weights (``Dir(c·w)``: mean ``w``, variance ``w(1-w)/(c+1)``, so the concentration ``c`` says how sure
the evaluators are) and, optionally, measurement-error draws of the normalised matrix. For every
scenario it returns the 5–95 % rank interval, the median rank, the probability of each grade and the
rank-acceptability (probability of holding rank 1, 2, …, ``top_k``).

The fast path (no measurement error, WSM or TOPSIS) is vectorised: totals for a chunk of draws are one
or two matrix products; ranks come from sorting 64-bit keys ``(score bits << 32) | index`` (one SIMD
integer sort per draw instead of an argsort) and a scatter; chunks run on a thread pool (numpy
releases the GIL in matmul and sort). Ranks inside one draw are ordinal there (ties, which have
probability ~0 for continuous draws, go to the earlier row); the generic path uses average ranks.

:func:`weight_tornado` moves one weight at a time; :func:`rank_reversal` drops one alternative at a
time and counts pairwise order changes among the rest (always 0 for threshold scoring + WSM).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from evaluation.assessment.aggregate import rank_desc, vikor_normalized

FloatArray = NDArray[np.float64]
Method = Literal["wsm", "topsis", "vikor"]
# Draws of normalised matrices for measurement error: (rng, n_draws) -> (n_draws, n, m).
DrawFn = Callable[[np.random.Generator, int], NDArray[np.floating]]


@dataclass(frozen=True)
class RankUncertainty:
    """Monte-Carlo summary per alternative (arrays of length ``n`` unless stated).

    Attributes:
        rank_lo, rank_hi: lower and upper rank quantiles (default 5 % and 95 %; rank 1 = best).
        rank_median: median rank.
        mean_total: mean total score over draws (on ``scale``).
        p_grade: ``(n, G)`` probability of each grade, best grade first.
        acceptability: ``(n, top_k)`` probability of holding rank 1 … ``top_k``.
        n_draws: number of draws.
    """

    rank_lo: FloatArray
    rank_hi: FloatArray
    rank_median: FloatArray
    mean_total: FloatArray
    p_grade: FloatArray
    acceptability: FloatArray
    n_draws: int


def dirichlet_weights(
    rng: np.random.Generator, weights: ArrayLike, concentration: float, n_draws: int
) -> FloatArray:
    """Weight draws ``~ Dir(concentration · w)``; a zero weight stays zero.

    Args:
        rng: random generator.
        weights: ``m`` weights summing to 1.
        concentration: total concentration ``c > 0`` (larger = tighter around ``w``).
        n_draws: number of draws.

    Returns:
        ``(n_draws, m)`` array, rows summing to 1.

    >>> d = dirichlet_weights(np.random.default_rng(0), [0.5, 0.5, 0.0], 100.0, 4)
    >>> d.shape, bool(np.allclose(d.sum(axis=1), 1)), float(d[:, 2].max())
    ((4, 3), True, 0.0)
    """
    w = np.asarray(weights, dtype=np.float64)
    if concentration <= 0:
        raise ValueError(f"concentration must be positive, got {concentration}")
    live = w > 0
    g = np.zeros((n_draws, w.size))
    g[:, live] = rng.standard_gamma(concentration * w[live], size=(n_draws, int(live.sum())))
    total = g.sum(axis=1, keepdims=True)
    # A draw where every gamma underflows (tiny concentration) falls back to the centre.
    bad = total[:, 0] <= 0
    g[bad] = w
    total[bad] = 1.0
    return g / total


def _grade_index(totals: NDArray[np.floating], cuts: FloatArray) -> NDArray[np.intp]:
    """Index of the grade (0 = best) for totals on the scale, given the best-first minimums."""
    asc = np.asarray(cuts[:-1][::-1], dtype=totals.dtype)  # e.g. [60, 80, 90]
    return (len(cuts) - 1 - np.searchsorted(asc, totals, side="right")).astype(np.intp)


def grade_of(totals: ArrayLike, cuts: Sequence[float]) -> NDArray[np.intp]:
    """Grade index (0 = best) of each total, with grade ``g`` covering ``[cuts[g], cuts[g-1])``.

    >>> grade_of([95, 90, 89.9, 61, 10], [90, 80, 60, 0]).tolist()
    [0, 0, 1, 2, 3]
    """
    return _grade_index(np.asarray(totals, dtype=np.float64), np.asarray(cuts, dtype=np.float64))


def _sortable_bits(scores: NDArray[np.float32]) -> NDArray[np.uint32]:
    """float32 → uint32 whose unsigned order equals the float order (IEEE-754 trick)."""
    bits = scores.view(np.uint32)
    if not np.any(bits >> 31):
        return bits | np.uint32(0x80000000)
    flip = np.where(bits >> 31, np.uint32(0xFFFFFFFF), np.uint32(0x80000000)).astype(np.uint32)
    return bits ^ flip


def _single_threaded_blas(workers: int) -> contextlib.AbstractContextManager[object]:
    """Limit BLAS to one thread while our own ``workers`` threads run matmuls (no oversubscription).

    threadpoolctl comes with scikit-learn; without it the limit is skipped.
    """
    if workers <= 1:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class _RankWorkspace(threading.local):
    key: NDArray[np.uint64] | None = None


def _ordinal_ranks_into(totals: NDArray[np.float32], out: NDArray[np.integer], ws: _RankWorkspace) -> None:
    """Write descending ordinal ranks (1 = best) of each row of ``totals`` into ``out``."""
    c, n = totals.shape
    if ws.key is None or ws.key.shape[0] < c or ws.key.shape[1] != n:
        ws.key = np.empty((c, n), dtype=np.uint64)
    key = ws.key[:c]
    kv = key.view(np.uint32).reshape(c, n, 2)
    hi, lo = (1, 0) if sys.byteorder == "little" else (0, 1)
    kv[..., hi] = _sortable_bits(np.ascontiguousarray(totals, dtype=np.float32))
    # Low bits hold n-1-index so that, among equal scores, the earlier row sorts higher (better rank).
    kv[..., lo] = np.arange(n - 1, -1, -1, dtype=np.uint32)
    key.sort(axis=1)
    desc = np.arange(n, 0, -1, dtype=out.dtype)
    last = np.uint32(n - 1)
    for r in range(c):
        out[r, last - kv[r, :, lo]] = desc


def _row_normalised(r: FloatArray) -> tuple[FloatArray, FloatArray]:
    mask = np.isfinite(r).astype(np.float64)
    return np.where(mask > 0, r, 0.0), mask


def _fast_totals(
    method: Method,
    r0: NDArray[np.float32],
    mask: NDArray[np.float32] | None,
    w: NDArray[np.float32],
    extra: tuple[NDArray[np.float32], NDArray[np.float32]] | None,
) -> NDArray[np.float32]:
    """Totals ``(c, n)`` for a chunk of weight draws ``w`` ``(c, m)`` (already multiplied by the scale).

    ``mask`` is None when no cell is missing (the available weight mass is then the draw's sum).
    """
    if method == "wsm":
        raw = w @ r0.T
        if mask is None:
            return raw
        # Pre-scaled weights cancel in the ratio; multiply the scale (the draw's sum) back.
        return raw / np.maximum(w @ mask.T, np.float32(1e-12)) * np.sum(w, axis=1, keepdims=True)
    assert extra is not None
    a_plus, a_minus = extra
    w2 = w * w
    dp2, dm2 = w2 @ a_plus.T, w2 @ a_minus.T
    if mask is not None:
        avail2 = np.maximum(w @ mask.T, np.float32(1e-12)) ** 2
        dp2, dm2 = dp2 / avail2, dm2 / avail2
    dp, dm = np.sqrt(dp2), np.sqrt(dm2)
    den = dp + dm
    scale = np.sum(w, axis=1, keepdims=True)
    # Closeness is scale-free; multiply back by the draw's scale (weights were pre-scaled).
    return np.where(den > 0, dm / np.where(den > 0, den, 1), np.float32(0.5)) * scale


def group_totals(method: Method, r: FloatArray, w: FloatArray, v: float) -> FloatArray:
    """Totals in [0, 1] for one group and one weight vector.

    Missing cells (NaN): WSM and TOPSIS renormalise the row's weights over its available indicators
    (TOPSIS ideals come from the available values); VIKOR fills a missing cell with the column mean.
    """
    r0, mask = _row_normalised(r)
    avail = mask @ w
    safe = np.where(avail > 0, avail, 1.0)
    if method == "wsm":
        return np.where(avail > 0, (r0 @ w) / safe, 0.0)
    if method == "topsis":
        present = mask > 0
        best = np.where(present, r, -np.inf).max(axis=0)
        worst = np.where(present, r, np.inf).min(axis=0)
        best = np.where(np.isfinite(best), best, 0.0)  # a column nobody in the group has
        worst = np.where(np.isfinite(worst), worst, 0.0)
        w2 = w * w
        dp = np.sqrt((((r0 - best) ** 2) * mask) @ w2) / safe
        dm = np.sqrt((((r0 - worst) ** 2) * mask) @ w2) / safe
        den = dp + dm
        return np.where(den > 0, dm / np.where(den > 0, den, 1.0), 0.5)
    col_mean = np.array(
        [np.mean(r[mask[:, j] > 0, j]) if mask[:, j].any() else 0.0 for j in range(r.shape[1])]
    )
    filled = np.where(mask > 0, r, col_mean)
    return 1.0 - vikor_normalized(filled, w, v).q


def monte_carlo_ranks(
    normalized: ArrayLike,
    weights: ArrayLike,
    *,
    n_draws: int = 2000,
    concentration: float = 200.0,
    seed: int = 0,
    method: Method = "wsm",
    vikor_v: float = 0.5,
    scale: float = 100.0,
    cuts: Sequence[float] = (90.0, 80.0, 60.0, 0.0),
    groups: ArrayLike | None = None,
    interval: tuple[float, float] = (0.05, 0.95),
    top_k: int = 10,
    measurement: DrawFn | None = None,
    chunk: int = 125,
    workers: int = 2,
) -> RankUncertainty:
    """Monte-Carlo rank and grade uncertainty over weights (and optionally measurement error).

    Args:
        normalized: ``(n, m)`` benefit-oriented normalised matrix in [0, 1]; NaN = missing (that row's
            weights are renormalised over its available indicators).
        weights: ``m`` central weights summing to 1.
        n_draws: number of Monte-Carlo draws.
        concentration: Dirichlet concentration (see :func:`dirichlet_weights`).
        seed: random seed (same seed → same result).
        method: ``"wsm"``, ``"topsis"`` or ``"vikor"`` (total = ``scale·(1 - Q)``).
        vikor_v: VIKOR's ``v``.
        scale: totals are ``scale ×`` the [0, 1] aggregate, as grades are defined on it.
        cuts: grade minimums, best first, last 0.
        groups: ``n`` labels; ranks (and TOPSIS/VIKOR ideals) are computed within each group.
        interval: rank quantiles reported as ``rank_lo``, ``rank_hi``.
        top_k: ranks reported in ``acceptability``.
        measurement: optional ``(rng, k) -> (k, n, m)`` draws of the normalised matrix; switches to
            the generic (per-draw) path with average ranks.
        chunk: draws per chunk (memory ≈ ``chunk·n·12`` bytes per worker on the fast path).
        workers: threads.

    Returns:
        :class:`RankUncertainty`.

    >>> r = np.array([[1.0, 1.0], [0.5, 0.5], [0.0, 0.0]])
    >>> u = monte_carlo_ranks(r, [0.5, 0.5], n_draws=200, top_k=3)
    >>> u.rank_lo.tolist(), u.p_grade[:, 0].tolist()
    ([1.0, 2.0, 3.0], [1.0, 0.0, 0.0])
    """
    rr = np.array(normalized, dtype=np.float64)
    if rr.ndim != 2:
        raise ValueError(f"normalized must be 2-D, got shape {rr.shape}")
    n, m = rr.shape
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (m,):
        raise ValueError(f"weights has {w.size} entries, the matrix has {m} columns")
    cuts_arr = np.asarray(cuts, dtype=np.float64)
    g_labels = (
        np.zeros(n, dtype=np.int64)
        if groups is None
        else np.unique(np.asarray(groups), return_inverse=True)[1]
    )
    members = [np.flatnonzero(g_labels == g) for g in range(int(g_labels.max()) + 1)]
    rng = np.random.default_rng(seed)
    w_rng, m_rng = rng.spawn(2)
    draws = dirichlet_weights(w_rng, w, concentration, n_draws)
    draw = _Draws(rr, draws, members, cuts_arr, scale, chunk)
    if measurement is None and method in ("wsm", "topsis"):
        ranks, grade_counts, total_sum = _fast_draws(draw, method, workers)
    else:
        ranks, grade_counts, total_sum = _generic_draws(draw, method, vikor_v, measurement, m_rng)
    return _summarise(ranks, grade_counts, total_sum, interval=interval, top_k=top_k, workers=workers)


def _rank_dtype(n: int) -> type[np.integer[Any]]:
    return np.int16 if n < np.iinfo(np.int16).max else np.int32


@dataclass(frozen=True)
class _Draws:
    """What every Monte-Carlo path shares: the matrix, the weight draws, the groups and the grade cuts."""

    rr: FloatArray
    weights: FloatArray
    members: list[NDArray[np.intp]]
    cuts: FloatArray
    scale: float
    chunk: int

    @property
    def starts(self) -> list[int]:
        return list(range(0, self.weights.shape[0], self.chunk))


def _fast_draws(
    draw: _Draws, method: Method, workers: int
) -> tuple[NDArray[np.integer[Any]], NDArray[np.int64], FloatArray]:
    """WSM/TOPSIS without measurement error: float32 totals for all draws at once, ordinal ranks, threads."""
    rr, members, cuts_arr = draw.rr, draw.members, draw.cuts
    n_draws, chunk = draw.weights.shape[0], draw.chunk
    n = rr.shape[0]
    n_grades = cuts_arr.size
    rank_dtype = _rank_dtype(n)
    ranks = np.empty((n_draws, n), dtype=rank_dtype)
    ge_counts = np.zeros((n, n_grades - 1), dtype=np.int64)
    total_sum = np.zeros(n)
    lock = threading.Lock()
    r0, mask = _row_normalised(rr)
    extra_by_group: list[tuple[NDArray[np.float32], NDArray[np.float32]] | None] = []
    for idx in members:
        if method == "topsis":
            has = mask[idx] > 0
            best = np.where(has, rr[idx], -np.inf).max(axis=0)
            worst = np.where(has, rr[idx], np.inf).min(axis=0)
            best = np.where(np.isfinite(best), best, 0.0)  # a column nobody in the group has
            worst = np.where(np.isfinite(worst), worst, 0.0)
            a_plus = ((r0[idx] - best) ** 2 * mask[idx]).astype(np.float32)
            a_minus = ((r0[idx] - worst) ** 2 * mask[idx]).astype(np.float32)
            extra_by_group.append((a_plus, a_minus))
        else:
            extra_by_group.append(None)
    complete = bool(mask.all())
    r32 = r0.astype(np.float32)
    m32 = None if complete else mask.astype(np.float32)
    w32 = (draw.weights * draw.scale).astype(np.float32)
    cut_vals = [np.float32(c) for c in cuts_arr[:-1]]
    ws = _RankWorkspace()

    def run(lo: int) -> None:
        hi = min(lo + chunk, n_draws)
        ge = np.zeros((n, n_grades - 1), dtype=np.int64)
        tsum = np.zeros(n)
        for gi, idx in enumerate(members):
            single = len(members) == 1
            tot = _fast_totals(
                method,
                r32 if single else r32[idx],
                m32 if (single or m32 is None) else m32[idx],
                w32[lo:hi],
                extra_by_group[gi],
            )
            if single:
                _ordinal_ranks_into(tot, ranks[lo:hi], ws)
            else:
                block = np.empty((hi - lo, idx.size), dtype=rank_dtype)
                _ordinal_ranks_into(tot, block, ws)
                ranks[lo:hi, idx] = block
            for j, cut in enumerate(cut_vals):
                ge[idx, j] += np.count_nonzero(tot >= cut, axis=0)
            tsum[idx] += tot.sum(axis=0, dtype=np.float64)
        with lock:
            ge_counts[...] += ge
            total_sum[...] += tsum

    with _single_threaded_blas(workers), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(run, draw.starts))
    at_least = np.column_stack([ge_counts, np.full(n, n_draws)])
    grade_counts = np.diff(np.column_stack([np.zeros(n, dtype=np.int64), at_least]), axis=1)
    return ranks, grade_counts, total_sum


def _generic_draws(
    draw: _Draws, method: Method, vikor_v: float, measurement: DrawFn | None, m_rng: np.random.Generator
) -> tuple[NDArray[Any], NDArray[np.int64], FloatArray]:
    """Any method, with optional measurement draws: totals per draw, average ranks for ties."""
    n_draws, n = draw.weights.shape[0], draw.rr.shape[0]
    n_grades = draw.cuts.size
    # Average ranks are kept as float32 only with measurement draws (as before this function was split).
    ranks = np.empty((n_draws, n), dtype=np.float32 if measurement is not None else _rank_dtype(n))
    grade_counts = np.zeros((n, n_grades), dtype=np.int64)
    total_sum = np.zeros(n)
    for lo in draw.starts:
        hi = min(lo + draw.chunk, n_draws)
        mats = measurement(m_rng, hi - lo) if measurement is not None else None
        tot = np.empty((hi - lo, n))
        for d in range(lo, hi):
            mat = draw.rr if mats is None else np.asarray(mats[d - lo], dtype=np.float64)
            for idx in draw.members:
                tot[d - lo, idx] = group_totals(method, mat[idx], draw.weights[d], vikor_v) * draw.scale
        for idx in draw.members:
            ranks[lo:hi, idx] = rankdata(-tot[:, idx], method="average", axis=1)
        gidx = _grade_index(tot, draw.cuts)
        grade_counts += np.bincount(
            (np.arange(n)[None, :] * n_grades + gidx).ravel(), minlength=n * n_grades
        ).reshape(n, n_grades)
        total_sum += tot.sum(axis=0)
    return ranks, grade_counts, total_sum


def _summarise(
    ranks: NDArray[Any],
    grade_counts: NDArray[np.int64],
    total_sum: FloatArray,
    *,
    interval: tuple[float, float],
    top_k: int,
    workers: int,
) -> RankUncertainty:
    """Rank quantiles, median, grade probabilities and rank acceptabilities from the drawn ranks."""
    n_draws, n = ranks.shape
    by_scenario = np.empty((n, n_draws), dtype=ranks.dtype)
    blocks = [slice(a, min(a + 1024, n)) for a in range(0, n, 1024)]

    def sort_block(b: slice) -> None:
        by_scenario[b] = np.sort(ranks[:, b].T, axis=1)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(sort_block, blocks))
    lo_i = int(np.floor(interval[0] * (n_draws - 1)))
    hi_i = int(np.ceil(interval[1] * (n_draws - 1)))
    k = max(1, min(top_k, n))
    # Tied draws (average ranks such as 1.5, generic path only) count at the better whole rank.
    top_rows, top_cols = np.nonzero(by_scenario <= k)
    top_rank = np.floor(by_scenario[top_rows, top_cols]).astype(np.int64) - 1
    acc = np.bincount(top_rows * k + top_rank, minlength=n * k).reshape(n, k) / n_draws
    mid_lo, mid_hi = (n_draws - 1) // 2, n_draws // 2
    median = (by_scenario[:, mid_lo].astype(np.float64) + by_scenario[:, mid_hi].astype(np.float64)) / 2
    return RankUncertainty(
        rank_lo=by_scenario[:, lo_i].astype(np.float64),
        rank_hi=by_scenario[:, hi_i].astype(np.float64),
        rank_median=median,
        mean_total=total_sum / n_draws,
        p_grade=grade_counts / n_draws,
        acceptability=acc,
        n_draws=n_draws,
    )


def weight_tornado(
    total_fn: Callable[[FloatArray], FloatArray], weights: ArrayLike, *, delta: float = 0.2
) -> tuple[FloatArray, FloatArray]:
    """One-at-a-time weight sensitivity: each weight ×(1 ± delta), the others rescaled to keep sum 1.

    Args:
        total_fn: weights ``(m,)`` → totals ``(n,)``.
        weights: ``m`` central weights.
        delta: relative change of the moved weight.

    Returns:
        ``(totals, ranks)`` each ``(m, 2, n)``: index 0 = weight lowered, 1 = raised.

    >>> tot, rk = weight_tornado(lambda w: np.array([[1.0, 0.0], [0.0, 1.0]]) @ w, [0.5, 0.5], delta=0.2)
    >>> tot[0].round(2).tolist(), rk[0].tolist()
    ([[0.4, 0.6], [0.6, 0.4]], [[2.0, 1.0], [1.0, 2.0]])
    """
    w = np.asarray(weights, dtype=np.float64)
    m = w.size
    base = total_fn(w)
    totals = np.empty((m, 2, base.size))
    ranks = np.empty_like(totals)
    for j in range(m):
        for s, sign in enumerate((-1.0, 1.0)):
            wj = float(np.clip(w[j] * (1 + sign * delta), 0.0, 1.0))
            rest = 1.0 - w[j]
            moved = w * ((1.0 - wj) / rest) if rest > 0 else np.full(m, (1.0 - wj) / max(m - 1, 1))
            moved[j] = wj
            totals[j, s] = total_fn(moved)
            ranks[j, s] = rank_desc(totals[j, s])
    return totals, ranks


def rank_reversal(total_fn: Callable[[NDArray[np.intp]], FloatArray], n: int) -> NDArray[np.int64]:
    """Leave-one-out rank-reversal check.

    For each alternative ``i``, rescore the others without it (``total_fn(kept_rows)`` → their totals,
    normalisation redone on the smaller set) and count the pairs among them whose order flips
    compared with the full ranking.

    Args:
        total_fn: row indices → totals of those rows, scored as a set.
        n: number of alternatives.

    Returns:
        ``n`` counts of reversed pairs.

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]])
    >>> rank_reversal(lambda rows: x[rows] @ np.array([0.5, 0.5]), 3).tolist()
    [0, 0, 0]
    """
    full = total_fn(np.arange(n))
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        kept = np.delete(np.arange(n), i)
        sub = total_fn(kept)
        a = np.sign(full[kept][:, None] - full[kept][None, :])
        b = np.sign(sub[:, None] - sub[None, :])
        out[i] = int(np.sum(np.triu((a * b) < 0, 1)))
    return out
