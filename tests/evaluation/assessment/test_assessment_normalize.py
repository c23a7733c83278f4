"""Normalisation: ranges, edge cases (constant, zero, negative columns), unit invariance, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evaluation import scoring
from evaluation.assessment import normalize as nz

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 6))
    x = draw(arrays(np.float64, (n, m), elements=finite))
    t = draw(arrays(np.float64, (m,), elements=st.sampled_from([-1.0, 1.0])))
    return x, t


@given(problems())
def test_minmax_in_unit_interval_and_never_nan(p: tuple[np.ndarray, np.ndarray]) -> None:
    x, t = p
    r = nz.minmax(x, t)
    assert np.all(np.isfinite(r))
    assert r.min() >= 0.0 and r.max() <= 1.0


@given(problems())
def test_vector_and_zscore_never_nan(p: tuple[np.ndarray, np.ndarray]) -> None:
    x, t = p
    assert np.all(np.isfinite(nz.vector(x, t)))
    assert np.all(np.isfinite(nz.zscore(x, t)))


def test_edge_columns_are_explicit() -> None:
    x = np.array([[5.0, 0.0, -3.0], [5.0, 0.0, -1.0], [5.0, 0.0, -2.0]])
    t = np.array([1.0, 1.0, -1.0])
    np.testing.assert_array_equal(nz.minmax(x, t)[:, 0], [1.0, 1.0, 1.0])  # constant → full score
    np.testing.assert_array_equal(nz.vector(x, t)[:, 1], [0.0, 0.0, 0.0])  # all-zero → 0
    np.testing.assert_allclose(nz.minmax(x, t)[:, 2], [1.0, 0.0, 0.5])  # negative cost column
    np.testing.assert_array_equal(nz.zscore(x, t)[:, 0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(nz.sum_(np.array([[0.0], [0.0]]), [1]), [[0.5], [0.5]])


def test_sum_normalisation_refuses_negative_and_zero_cost() -> None:
    with pytest.raises(ValueError, match="column 0"):
        nz.sum_(np.array([[1.0], [-1.0]]), [1])
    with pytest.raises(ValueError, match="cost column 0"):
        nz.sum_(np.array([[1.0], [0.0]]), [-1])


def test_bad_inputs_say_how_to_fix() -> None:
    with pytest.raises(ValueError, match="non-finite value at row 1"):
        nz.minmax([[1.0], [np.nan]], [1])
    with pytest.raises(ValueError, match=r"\+1 \(benefit\) or -1"):
        nz.minmax([[1.0], [2.0]], [2])
    with pytest.raises(ValueError, match="unknown normalisation"):
        nz.normalize([[1.0]], [1], "log")
    with pytest.raises(ValueError, match="must differ"):
        nz.threshold([[1.0]], [5.0], [5.0])


# Values on a 0.1 grid and unit factors such as 元 → 万元 (1e-4): a spread well above float resolution,
# so the property is about the method, not about rounding of nearly equal values.
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 10), st.integers(1, 5)),
        elements=st.integers(1, 100_000).map(lambda v: v / 10),
    ),
    st.sampled_from([1e-4, 1e-3, 0.01, 0.1, 3.6, 10.0, 1000.0, 1e4]),
)
def test_unit_rescaling_invariance(x: np.ndarray, factor: float) -> None:
    """Changing an indicator's unit (e.g. 元 → 万元) changes nothing after normalisation."""
    t = np.where(np.arange(x.shape[1]) % 2 == 0, 1.0, -1.0)
    scaled = x.copy()
    scaled[:, 0] *= factor
    for method in ("minmax", "vector", "sum", "zscore"):
        np.testing.assert_allclose(nz.normalize(scaled, t, method), nz.normalize(x, t, method), atol=1e-9)
    floor, target = np.full(x.shape[1], 10.0), np.full(x.shape[1], 500.0)
    f2, g2 = floor.copy(), target.copy()
    f2[0] *= factor
    g2[0] *= factor
    np.testing.assert_allclose(nz.threshold(scaled, f2, g2), nz.threshold(x, floor, target), atol=1e-9)


@given(problems(), st.data())
@settings(max_examples=60)
def test_wsm_score_never_drops_when_a_benefit_indicator_improves(
    p: tuple[np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    x, t = p
    n, m = x.shape
    t = t.copy()
    j = data.draw(st.integers(0, m - 1))
    t[j] = 1.0
    i = data.draw(st.integers(0, n - 1))
    bump = data.draw(st.floats(0.0, 1e6))
    w = np.full(m, 1.0 / m)
    better = x.copy()
    better[i, j] += bump
    assert scoring.wsm(better, w, t)[i] >= scoring.wsm(x, w, t)[i] - 1e-12
    floor, target = np.full(m, -1e5), np.full(m, 1e5)
    floor[t < 0], target[t < 0] = 1e5, -1e5
    before = nz.threshold(x, floor, target) @ w
    after = nz.threshold(better, floor, target) @ w
    assert after[i] >= before[i] - 1e-12


@given(problems())
def test_scores_in_range(p: tuple[np.ndarray, np.ndarray]) -> None:
    x, t = p
    w = np.full(x.shape[1], 1.0 / x.shape[1])
    for s in (
        scoring.wsm(x, w, t),
        scoring.topsis(x, w, t),
        scoring.topsis(x, w, t, "vector"),
        scoring.vikor(x, w, t),
    ):
        assert np.all(np.isfinite(s))
        assert s.min() >= -1e-12 and s.max() <= 1 + 1e-12


def test_a_column_constant_at_float_resolution_is_constant_not_inf() -> None:
    import warnings

    from evaluation.scoring import topsis, vikor, wsm

    m = np.array([[0.0, 1.0], [1e-310, 2.0], [0.0, 3.0]])  # first column differs only by a subnormal
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings on the way
        for scores in (
            topsis(m, [0.5, 0.5], [1, 1]),
            wsm(m, [0.5, 0.5], [1, 1]),
            vikor(m, [0.5, 0.5], [1, 1]),
        ):
            assert np.all(np.isfinite(scores))
    # the subnormal column carries no information: the ranking follows the second column alone
    assert np.argsort(topsis(m, [0.5, 0.5], [1, 1])).tolist() == [0, 1, 2]
