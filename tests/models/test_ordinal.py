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
    climb = m.transitions()[:, :, :].diagonal(offset=1, axis1=1, axis2=2)  # (series, level) → P(v → v+1)
    # each keeps its own pace, shrunk to the pool, at its own level and at a level no series has left yet
    assert climb[0, 5] > m.pooled[-1] > climb[1, 0] > 0
    assert climb[0, 0] > climb[1, 0] and climb[0, 7] > climb[1, 7]


def test_each_level_is_left_at_its_own_rate() -> None:
    """A simulated panel whose levels are left at known, different yearly rates: the chain learns each one
    (the chain with one step distribution for every level gave all three the same ~0.15)."""
    rng = np.random.default_rng(0)
    true = {0: 0.4, 1: 0.05, 2: 0.3}
    histories = []
    for _ in range(40):
        v, path = 0, [0]
        for _ in range(9):
            v += int(v < 3 and rng.random() < true[v])
            path.append(v)
        histories.append(np.array(path))
    climb = fit_ordinal(histories, n_levels=4).transitions().diagonal(offset=1, axis1=1, axis2=2).mean(axis=0)
    assert climb[0] == pytest.approx(0.4, abs=0.1)
    assert climb[1] == pytest.approx(0.05, abs=0.04)
    assert climb[2] == pytest.approx(0.3, abs=0.1)


def test_the_chain_before_is_kept_to_compare() -> None:
    m = fit_ordinal([np.array([0, 0, 1, 1, 1, 1]), np.array([0, 1, 1, 1, 1, 1])], n_levels=3, by_level=False)
    trans = m.transitions()
    assert np.allclose(trans[:, 0, 1], trans[:, 1, 2])  # one step distribution at every level
