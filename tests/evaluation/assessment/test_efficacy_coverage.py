"""DiD intervals at nominal coverage: the pooled AR(1) coefficient, the GLS fit and the interval it gives.

The simulated panels are built here, in code (a treated street and never-treated streets sharing a
season and a trend, AR(1) noise); ``evaluation/bench/assessment.md`` measures the same over more seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation.assessment import efficacy as ef


def _ar1_panel(rng: np.random.Generator, n_series: int, n: int, phi: float, sd: float) -> np.ndarray:
    e = np.empty((n_series, n))
    e[:, 0] = rng.normal(0.0, sd / math.sqrt(1 - phi**2), n_series)
    for t in range(1, n):
        e[:, t] = phi * e[:, t - 1] + rng.normal(0.0, sd, n_series)
    return e


def _draw(
    seed: int,
    *,
    months: int = 36,
    launch: int = 18,
    phi: float = 0.6,
    effect: float = -4.0,
    n_controls: int = 6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    month = np.arange(months) % 12 + 1
    common = 3.0 * np.cos(2 * np.pi * (month - 7) / 12) + 0.05 * np.arange(months)
    noise = _ar1_panel(rng, n_controls + 1, months, phi, 1.5)
    post = np.arange(months) >= launch
    y = 20 + common + noise[0] + effect * post
    controls = 15 + np.arange(n_controls)[:, None] + common + noise[1:]
    return y, controls, post


def _coverage(ar1_from: str, seeds: range, **design: float) -> float:
    hits = []
    for s in seeds:
        y, c, post = _draw(s, **design)  # type: ignore[arg-type]
        est = ef.did_effect(y, c, post, ar1_from=ar1_from)  # type: ignore[arg-type]
        assert est.status == "ok"
        hits.append(est.ci_lo <= -4.0 <= est.ci_hi)
    return float(np.mean(hits))


@pytest.mark.parametrize(("months", "launch", "phi"), [(36, 18, 0.6), (48, 22, 0.4)])
def test_did_interval_covers_at_nominal_where_the_gap_only_estimate_did_not(
    months: int, launch: int, phi: float
) -> None:
    seeds = range(2000, 2400)  # neither the bench's validation nor its held-out seeds
    new = _coverage("controls", seeds, months=months, launch=launch, phi=phi)
    old = _coverage("treated", seeds, months=months, launch=launch, phi=phi)
    # 400 seeds: one binomial standard error is 1.1 points at 95 %.
    assert 0.93 <= new <= 0.97, new
    assert old < 0.935, old  # the AR(1) coefficient from the gap alone (the code before) under-covers


def test_expected_lag1_ratio_matches_the_trace_formula() -> None:
    for n in (8, 36, 72):
        t = np.arange(n)
        m = np.eye(n) - 1.0 / n
        for k in (0, 40, 200, 388):
            rho = ef._RHO_GRID[k]
            v = m @ (rho ** np.abs(t[:, None] - t[None, :])) @ m
            brute = np.trace(v, offset=1) / np.trace(v[:-1, :-1])
            assert ef._demeaned_lag1_ratio(n)[k] == pytest.approx(brute, abs=1e-12)
        assert np.all(np.diff(ef._demeaned_lag1_ratio(n)) > 0)  # invertible by interpolation


def test_pooled_ar1_removes_the_demeaning_bias() -> None:
    rng = np.random.default_rng(5)
    pooled, naive = [], []
    for _ in range(300):
        panel = _ar1_panel(rng, 6, 36, 0.6, 1.0) + np.linspace(0, 3, 36) + rng.normal(0, 5, (6, 1))
        pooled.append(ef.pooled_ar1(panel))
        u = panel - panel.mean(axis=0)
        u = u - u.mean(axis=1, keepdims=True)
        naive.append(np.sum(u[:, 1:] * u[:, :-1]) / np.sum(u[:, :-1] ** 2))
    assert np.mean(pooled) == pytest.approx(0.6, abs=0.01)
    assert np.mean(naive) < 0.57  # what the correction is for


def test_pooled_ar1_rejects_an_incomplete_panel() -> None:
    with pytest.raises(ValueError, match="complete"):
        ef.pooled_ar1(np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]]))


def test_gls_with_a_given_rho_is_statsmodels_gls_with_the_ar1_covariance() -> None:
    rng = np.random.default_rng(11)
    n, rho = 40, 0.55
    x = np.column_stack([np.ones(n), (np.arange(n) >= 17).astype(float)])
    y = x @ [2.0, -1.0] + _ar1_panel(rng, 1, n, rho, 1.0)[0]
    ours = ef._gls_ar1(y, x, rho, "")
    t = np.arange(n)
    ref = sm.GLS(y, x, sigma=rho ** np.abs(t[:, None] - t[None, :])).fit()
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(ours.cov, ref.cov_params(), rtol=1e-10)
    assert ours.dof == ref.df_resid == n - 2


def test_with_rho_zero_the_interval_is_the_two_sample_t_interval() -> None:
    """Balanced 2×2 DiD on the gap: the pooled-variance t interval in closed form."""
    rng = np.random.default_rng(3)
    gap = rng.normal(0, 1, 24) - 2.0 * (np.arange(24) >= 12)
    post = np.arange(24) >= 12
    fit = ef._gls_ar1(gap, np.column_stack([np.ones(24), post.astype(float)]), 0.0, "")
    est, se, half, p = ef._inference(fit, np.array([0.0, 1.0]), 0.05)
    a, b = gap[~post], gap[post]
    s2 = (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / 22
    assert est == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    assert se == pytest.approx(math.sqrt(s2 * (1 / 12 + 1 / 12)), rel=1e-12)
    assert half == pytest.approx(stats.t.ppf(0.975, 22) * se, rel=1e-12)
    assert p == pytest.approx(stats.ttest_ind(b, a).pvalue, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    effect=st.floats(-3.0, 3.0),
    phi=st.floats(-0.3, 0.9),
    n_controls=st.integers(2, 12),
    alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
)
def test_p_value_agrees_with_the_interval(
    seed: int, effect: float, phi: float, n_controls: int, alpha: float
) -> None:
    y, c, post = _draw(seed, effect=effect, phi=phi, n_controls=n_controls)
    est = ef.did_effect(y, c, post, alpha=alpha)
    assert est.status == "ok" and "pooled from" in est.note
    assert est.ci_lo < est.effect < est.ci_hi
    excludes_zero = not (est.ci_lo <= 0.0 <= est.ci_hi)
    if abs(est.p_value - alpha) > 1e-9:
        assert (est.p_value < alpha) == excludes_zero


def test_falls_back_to_the_gap_when_too_few_complete_comparison_streets() -> None:
    y, c, post = _draw(1, n_controls=3)
    c[1:, 5] = np.nan  # only one comparison street complete over the fitted months
    est = ef.did_effect(y, c, post)
    assert est.status == "ok" and "Prais-Winsten" in est.note
    with pytest.raises(ValueError, match="ar1_from"):
        ef.did_effect(y, c, post, ar1_from="both")  # type: ignore[arg-type]
