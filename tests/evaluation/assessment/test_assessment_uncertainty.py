"""Monte-Carlo rank/grade uncertainty, the weight tornado and the leave-one-out rank-reversal check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from evaluation.assessment import uncertainty as un
from evaluation.assessment.aggregate import topsis_normalized


def _matrix(n: int = 30, m: int = 6, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, m)), rng.dirichlet(np.ones(m) * 3)


def _naive(r: np.ndarray, w: np.ndarray, method: str, seed: int, n_draws: int, conc: float) -> np.ndarray:
    """Reference: the same weight draws, one rankdata per draw (ranks: draws × n)."""
    w_rng, _ = np.random.default_rng(seed).spawn(2)
    draws = un.dirichlet_weights(w_rng, w, conc, n_draws)
    out = np.empty((n_draws, r.shape[0]))
    for d in range(n_draws):
        tot = r @ draws[d] if method == "wsm" else topsis_normalized(r, draws[d])
        out[d] = rankdata(-tot, method="ordinal")
    return out


@pytest.mark.parametrize("method", ["wsm", "topsis"])
def test_fast_path_matches_a_naive_loop(method: str) -> None:
    r, w = _matrix()
    n_draws = 400
    got = un.monte_carlo_ranks(r, w, n_draws=n_draws, concentration=50, seed=3, method=method, top_k=3)  # type: ignore[arg-type]
    ref = np.sort(_naive(r, w, method, 3, n_draws, 50).T, axis=1)
    lo_i, hi_i = int(np.floor(0.05 * (n_draws - 1))), int(np.ceil(0.95 * (n_draws - 1)))
    np.testing.assert_array_equal(got.rank_lo, ref[:, lo_i])
    np.testing.assert_array_equal(got.rank_hi, ref[:, hi_i])
    np.testing.assert_allclose(got.acceptability[:, 0], (ref == 1).mean(axis=1))


def test_generic_path_agrees_with_fast_path() -> None:
    r, w = _matrix(n=20)
    fast = un.monte_carlo_ranks(r, w, n_draws=300, seed=5)
    generic = un.monte_carlo_ranks(
        r, w, n_draws=300, seed=5, measurement=lambda rng, k: np.broadcast_to(r, (k, *r.shape))
    )
    np.testing.assert_array_equal(fast.rank_lo, generic.rank_lo)
    np.testing.assert_array_equal(fast.rank_hi, generic.rank_hi)
    np.testing.assert_allclose(fast.p_grade, generic.p_grade)
    np.testing.assert_allclose(fast.mean_total, generic.mean_total, rtol=1e-5)


def test_summaries_are_coherent_and_reproducible() -> None:
    r, w = _matrix(n=50)
    a = un.monte_carlo_ranks(r, w, n_draws=500, seed=11, groups=np.arange(50) % 2, top_k=5)
    b = un.monte_carlo_ranks(r, w, n_draws=500, seed=11, groups=np.arange(50) % 2, top_k=5)
    np.testing.assert_array_equal(a.rank_lo, b.rank_lo)
    np.testing.assert_allclose(a.p_grade.sum(axis=1), 1.0)
    assert np.all(a.rank_lo <= a.rank_median) and np.all(a.rank_median <= a.rank_hi)
    assert a.rank_hi.max() <= 25  # ranks are within each group of 25
    # every draw has exactly one rank-1 scenario per group
    np.testing.assert_allclose(a.acceptability[:, 0].sum(), 2.0)


def test_near_certain_weights_reproduce_the_point_ranking() -> None:
    r, w = _matrix(n=15)
    u = un.monte_carlo_ranks(r, w, n_draws=200, concentration=1e9, seed=0)
    point = rankdata(-(r @ w), method="ordinal")
    np.testing.assert_array_equal(u.rank_lo, point)
    np.testing.assert_array_equal(u.rank_hi, point)


def test_missing_cells_renormalise_in_the_fast_path() -> None:
    r = np.array([[1.0, np.nan], [0.5, 0.5], [0.0, 0.0]])
    u = un.monte_carlo_ranks(r, np.array([0.5, 0.5]), n_draws=100, seed=0, top_k=3)
    assert u.mean_total[0] == pytest.approx(100.0)  # scored on its one available indicator
    assert u.rank_hi[0] == 1


def test_grade_cut_points_are_inclusive_below() -> None:
    assert un.grade_of([90.0, 89.999, 80.0, 60.0, 59.9, 0.0], [90, 80, 60, 0]).tolist() == [0, 1, 1, 2, 3, 3]


def test_tornado_moves_one_weight_at_a_time() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.5]])
    totals, ranks = un.weight_tornado(lambda w: x @ w, np.array([0.5, 0.5]), delta=0.5)
    assert totals.shape == (2, 2, 3)
    np.testing.assert_allclose(totals[0, 1], x @ np.array([0.75, 0.25]))
    np.testing.assert_allclose(totals[0, 0], x @ np.array([0.25, 0.75]))
    assert ranks[0, 1, 0] == 1  # raising the first weight puts the first alternative on top
    assert ranks[1, 1, 1] == 1


def _minmax_wsm(y: np.ndarray):  # type: ignore[no-untyped-def]
    def total(rows: np.ndarray) -> np.ndarray:
        sub = y[rows]
        span = np.ptp(sub, axis=0)
        return ((sub - sub.min(axis=0)) / np.where(span > 0, span, 1.0)) @ np.array([0.5, 0.5])

    return total


def test_rank_reversal_is_detected_for_minmax_and_absent_for_fixed_scoring() -> None:
    y = np.array([[1.0, 8.0], [6.0, 9.0], [5.0, 6.0], [9.0, 7.0]])
    # Dropping alternative 0 or 3 changes the min/max and flips a pair among the others.
    counts = un.rank_reversal(_minmax_wsm(y), 4)
    assert counts.max() >= 1
    # Fixed (threshold-style) scoring of each row alone can never reverse.
    assert un.rank_reversal(lambda rows: y[rows] @ np.array([0.5, 0.5]), 4).tolist() == [0, 0, 0, 0]


def test_ordinal_ranks_handle_ties_and_negative_scores() -> None:
    out = np.empty((2, 5), dtype=np.int16)
    totals = np.array([[1, 2, 2, 0, 2], [-1, -2, 3, 0, -0.5]], dtype=np.float32)
    un._ordinal_ranks_into(totals, out, un._RankWorkspace())
    assert out.tolist() == [[4, 1, 2, 5, 3], [4, 5, 1, 2, 3]]  # ties: the earlier row ranks better
    for row, ref in zip(out, totals, strict=True):
        np.testing.assert_array_equal(row, rankdata(-ref, method="ordinal"))
