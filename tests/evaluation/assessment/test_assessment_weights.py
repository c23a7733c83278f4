"""Weights (AHP variants, entropy, CRITIC, combinations) and aggregation (ties, VIKOR compromise)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evaluation.assessment import aggregate as ag
from evaluation.assessment import weights as aw


def _consistent(w: np.ndarray) -> np.ndarray:
    return np.outer(w, 1.0 / w)


@given(arrays(np.float64, st.integers(2, 9), elements=st.floats(0.05, 1.0)))
def test_consistent_matrix_recovers_the_weights_by_both_methods(raw: np.ndarray) -> None:
    w = raw / raw.sum()
    for method in ("eigenvector", "geometric"):
        got, cr = aw.ahp_weights(_consistent(w), method=method)  # type: ignore[arg-type]
        np.testing.assert_allclose(got, w, atol=1e-9)
        assert cr == pytest.approx(0.0, abs=1e-9)


def test_incomplete_consistent_matrix_is_completed_exactly() -> None:
    w = np.array([0.4, 0.3, 0.2, 0.1])
    a = _consistent(w)
    a[0, 3] = a[3, 0] = np.nan
    a[1, 2] = a[2, 1] = np.nan
    filled = aw.complete_pairwise(a)
    np.testing.assert_allclose(filled, _consistent(w), rtol=1e-9)
    np.testing.assert_allclose(aw.ahp_weights(a)[0], w, atol=1e-9)


def test_disconnected_judgements_are_refused() -> None:
    a = np.full((4, 4), np.nan)
    np.fill_diagonal(a, 1.0)
    a[0, 1], a[1, 0], a[2, 3], a[3, 2] = 2.0, 0.5, 3.0, 1 / 3
    with pytest.raises(ValueError, match="do not connect"):
        aw.complete_pairwise(a)


def test_expert_pooling_is_reciprocal_geometric_mean() -> None:
    e1 = _consistent(np.array([0.6, 0.3, 0.1]))
    e2 = _consistent(np.array([0.2, 0.3, 0.5]))
    pooled = aw.aggregate_experts([e1, e2])
    np.testing.assert_allclose(pooled, np.sqrt(e1 * e2))
    np.testing.assert_allclose(pooled * pooled.T, 1.0)


def test_pairwise_validation_messages() -> None:
    with pytest.raises(ValueError, match="not reciprocal at"):
        aw.ahp_weights([[1, 3], [3, 1]])
    with pytest.raises(ValueError, match="diagonal"):
        aw.ahp_weights([[2, 1], [1, 1]])
    with pytest.raises(aw.InconsistentJudgementsError, match="revise the judgements"):
        aw.ahp_weights([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]], max_cr=0.1)


@given(arrays(np.float64, st.tuples(st.integers(1, 15), st.integers(1, 8)), elements=st.floats(0, 1e3)))
def test_objective_weights_are_a_distribution(x: np.ndarray) -> None:
    for w in (aw.entropy_weights(x), aw.critic_weights(x, None) if x.shape[0] > 1 else aw.entropy_weights(x)):
        assert np.all(np.isfinite(w)) and np.all(w >= 0)
        assert w.sum() == pytest.approx(1.0)


def test_constant_column_gets_no_objective_weight() -> None:
    x = np.array([[1.0, 5.0, 3.0], [2.0, 5.0, 1.0], [4.0, 5.0, 2.0]])
    assert aw.entropy_weights(x)[1] == 0.0
    assert aw.critic_weights(x, [1, 1, -1])[1] == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        aw.entropy_weights([[-1.0, 2.0], [1.0, 1.0]])


def test_critic_cost_reversal_changes_conflict() -> None:
    x = np.array([[1.0, 1.0, 5.0], [2.0, 2.0, 1.0], [3.0, 3.5, 2.0], [4.0, 3.0, 9.0]])
    same = aw.critic_weights(x, [1, 1, 1])
    reversed_ = aw.critic_weights(x, [1, -1, 1])
    assert not np.allclose(same, reversed_)


@given(
    arrays(np.float64, 5, elements=st.floats(0.01, 1)),
    arrays(np.float64, 5, elements=st.floats(0.01, 1)),
    st.floats(0, 1),
)
def test_combined_weights_sum_to_one(s: np.ndarray, o: np.ndarray, alpha: float) -> None:
    s, o = s / s.sum(), o / o.sum()
    for method in ("linear", "multiplicative"):
        w = aw.combine_weights(s, o, method=method, alpha=alpha)  # type: ignore[arg-type]
        assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
    np.testing.assert_allclose(aw.combine_weights(s, o, method="linear", alpha=1.0), s)


def test_ties_share_the_average_rank() -> None:
    np.testing.assert_array_equal(ag.rank_desc([3.0, 1.0, 3.0, 2.0, 3.0]), [2.0, 5.0, 2.0, 4.0, 2.0])


def test_vikor_compromise_set_without_acceptable_advantage() -> None:
    # Two nearly equal leaders: no acceptable advantage, so both are in the compromise set.
    r = np.array([[1.0, 0.0], [0.0, 1.0], [0.98, 0.02], [0.3, 0.3]])
    res = ag.vikor_normalized(r, np.array([0.5, 0.5]))
    best = int(np.argmin(res.q))
    assert best in res.compromise
    assert len(res.compromise) >= 2
    assert all(res.q[k] - res.q[best] < 1 / 3 for k in res.compromise)


def test_weight_validation() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        ag.check_weights([0.5, 0.6], 2)
    with pytest.raises(ValueError, match="2 criteria"):
        ag.check_weights([1.0], 2)
