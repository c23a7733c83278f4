"""The level chain (models.champion.ordinal): integer levels, no fall without observed drops, exact P(reach)."""

from __future__ import annotations

import numpy as np
import pytest

from models.champion.ordinal import fit_ordinal

PROBS = np.array([0.025, 0.1, 0.5, 0.9, 0.975])


def test_levels_are_integers_on_the_scale_and_never_fall_without_observed_drops() -> None:
    hist = [np.array([0, 0, 1, 1, 2, 2]), np.array([1, 1, 1, 2, 2, 3]), np.array([0, 1, 1, 1, 1, 1])]
    m = fit_ordinal(hist, n_levels=4)
    q = m.quantiles(6, PROBS)
    assert np.array_equal(q, np.rint(q)) and q.min() >= 0 and q.max() <= 3
    assert np.all(q >= np.array([2, 3, 1])[:, None, None])  # never below the current level
    dist = m.forecast_levels(6)
    assert np.allclose(dist.sum(axis=2), 1.0)
    assert np.all(np.diff(dist[:, :, 3], axis=1) >= -1e-12)  # the top level only gains mass


def test_observed_drops_allow_a_fall() -> None:
    m = fit_ordinal([np.array([2, 1, 2, 1, 2]), np.array([1, 1, 0, 1, 1])], n_levels=3)
    assert m.steps.min() == -1
    assert m.forecast_levels(1)[0, 0, 1] > 0.2


def test_p_reach_is_the_mass_at_and_above_the_level() -> None:
    m = fit_ordinal([np.array([0, 0, 1, 1, 2])], n_levels=4)  # climbs every other year
    p = m.prob_at_least(3, 2)[0]
    assert p == pytest.approx([0.5, 0.75])


def test_a_fast_series_climbs_faster_than_a_still_one() -> None:
    m = fit_ordinal([np.array([0, 1, 2, 3, 4, 5]), np.array([0, 0, 0, 0, 0, 0])], n_levels=10)
    assert m.series_probs[0, -1] > m.series_probs[1, -1]  # each keeps its own pace, shrunk to the pool
    assert 0 < m.series_probs[1, -1] < m.pooled[-1]
