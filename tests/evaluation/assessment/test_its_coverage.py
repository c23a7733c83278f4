"""ITS intervals at nominal coverage: harmonics on short series and the interval integrated over AR(1) ρ.

The panels are the bench's (``evaluation.bench.assessment.street_panel`` and the demo-like district);
the seeds here are neither the bench's validation seeds (0–499) nor its held-out ones (1000–1999).
``evaluation/bench/assessment.md`` measures the same over more seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.assessment import efficacy as ef
from evaluation.bench.assessment import StreetPanel, _demo_like_draw, street_panel

SEEDS = range(3000, 3300)


def _before(d: StreetPanel) -> ef.EffectEstimate:
    """The code before: plug-in Prais–Winsten FGLS, harmonics only with 24 pre-launch months."""
    month = d.month if int((~d.post).sum()) >= 24 else None
    return ef.its_effect(d.y, d.post, month=month, ar1="plug-in")


def _coverage_and_width(ests: list[ef.EffectEstimate], truth: list[float]) -> tuple[float, float]:
    assert all(e.status == "ok" for e in ests)
    hits = [e.ci_lo <= t <= e.ci_hi for e, t in zip(ests, truth, strict=True)]
    return float(np.mean(hits)), float(np.mean([e.ci_hi - e.ci_lo for e in ests]))


@pytest.mark.parametrize(("months", "launch", "phi"), [(36, 18, 0.6), (48, 22, 0.4)])
def test_its_interval_is_nominal_and_narrower_where_it_was_over_wide(
    months: int, launch: int, phi: float
) -> None:
    panels = [street_panel(s, -4.0, months=months, launch=launch, phi=phi) for s in SEEDS]
    truth = [d.effect for d in panels]
    new_cov, new_width = _coverage_and_width(
        [ef.its_effect(d.y, d.post, month=d.month) for d in panels], truth
    )
    old_cov, old_width = _coverage_and_width([_before(d) for d in panels], truth)
    # 300 seeds: one binomial standard error is 1.3 points at 95 %.
    assert 0.92 <= new_cov <= 0.98, new_cov
    # Before, the season stayed in the residuals (fewer than 24 pre-launch months): over-wide.
    assert new_width < 0.75 * old_width, (new_width, old_width)
    assert old_cov > new_cov


@pytest.mark.slow
def test_its_interval_covers_on_the_demo_like_district_where_the_plug_in_did_not() -> None:
    panels = [_demo_like_draw(s, -0.25) for s in range(3000, 3400)]
    truth = [d.effect for d in panels]
    new_cov, _ = _coverage_and_width([ef.its_effect(d.y, d.post, month=d.month) for d in panels], truth)
    old_cov, _ = _coverage_and_width([_before(d) for d in panels], truth)
    # 400 seeds: one binomial standard error is 1.1 points at 95 %.
    assert 0.93 <= new_cov <= 0.97, new_cov
    assert old_cov < 0.925, old_cov  # a plugged-in ρ is biased towards zero and its noise ignored


def test_harmonics_are_fitted_from_a_year_before_launch_on_a_two_year_series() -> None:
    d = street_panel(0, -4.0, months=36, launch=18, phi=0.6)
    assert "12-month harmonics" in ef.its_effect(d.y, d.post, month=d.month).note
    short = ef.its_effect(d.y[:30], d.post[:30], month=d.month[:30])  # 18 before, 12 after: spans 30
    assert "12-month harmonics" in short.note
    late = street_panel(0, -4.0, months=36, launch=10, phi=0.6)  # 10 months before launch
    assert "harmonics" not in ef.its_effect(late.y, late.post, month=late.month).note


def test_integrated_interval_with_white_noise_is_close_to_the_ols_t_interval() -> None:
    # With no autocorrelation the restricted likelihood concentrates around ρ = 0, so the interval is
    # close to (a little wider than) OLS's exact t interval, never narrower by much.
    rng = np.random.default_rng(11)
    t = np.arange(60.0)
    post = t >= 30
    y = 5 + 0.02 * t - 1.0 * post + rng.normal(0, 1, t.size)
    est = ef.its_effect(y, post)
    since = np.where(post, t - 30, 0.0)
    ols = sm.OLS(y, np.column_stack([np.ones_like(t), t, post, since])).fit()
    c = np.array([0.0, 0.0, 1.0, since[post].mean()])
    test = ols.t_test(c)
    lo, hi = np.asarray(test.conf_int()).ravel()
    assert est.status == "ok" and abs(est.effect - float(test.effect[0])) < 0.25 * float(test.sd[0, 0])
    ratio = (est.ci_hi - est.ci_lo) / (hi - lo)
    assert 0.9 < ratio < 1.6, ratio


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.01, 100.0),
    shift=st.floats(-1_000.0, 1_000.0),
    launch=st.integers(8, 28),
)
def test_interval_is_affine_equivariant_and_agrees_with_its_p_value(
    seed: int, scale: float, shift: float, launch: int
) -> None:
    d = street_panel(seed, -2.0, months=36, launch=launch, phi=0.5)
    est = ef.its_effect(d.y, d.post, month=d.month)
    moved = ef.its_effect(shift + scale * d.y, d.post, month=d.month)
    assert est.ci_lo < est.effect < est.ci_hi
    assert moved.effect == pytest.approx(scale * est.effect, rel=1e-6, abs=1e-9 * scale)
    assert moved.ci_lo == pytest.approx(scale * est.ci_lo, rel=1e-6, abs=1e-9 * scale)
    assert moved.ci_hi == pytest.approx(scale * est.ci_hi, rel=1e-6, abs=1e-9 * scale)
    assert moved.p_value == pytest.approx(est.p_value, rel=1e-5, abs=1e-12)
    # 0 is outside the 95 % interval exactly when the p-value is below 5 %.
    if not math.isclose(est.p_value, 0.05, abs_tol=1e-6):
        assert (est.p_value < 0.05) == (not est.ci_lo <= 0.0 <= est.ci_hi)


def test_unknown_ar1_option_is_refused() -> None:
    d = street_panel(0, -4.0)
    with pytest.raises(ValueError, match="'integrated' or 'plug-in'"):
        ef.its_effect(d.y, d.post, month=d.month, ar1="bootstrap")  # type: ignore[arg-type]
