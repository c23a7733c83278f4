"""The published backtest's attainment events are ``y ≥ target``: their probabilities count a point mass at
the target, or a flat cumulative count (forecast to stay at its last value, and staying there) looks like a
confident miss that came true, and the attainment map fitted on these pairs learns to push every probability
of its kind up."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import evaluation.forecasting.origin_backtest as ob
from models.base import cdf_from_quantiles, dense_probs
from models.champion import ChampionConfig
from models.transforms import Scale

PROBS = dense_probs(0.01)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(0, 6), min_size=3, max_size=30),
    x=st.integers(-1, 7),
)
def test_the_left_limit_differs_from_the_cdf_only_by_the_mass_at_x(values: list[int], x: int) -> None:
    q = np.sort(np.array(values, dtype=float))
    probs = np.linspace(0.02, 0.98, q.size)
    right, left = cdf_from_quantiles(float(x), probs, q), cdf_from_quantiles(float(x), probs, q, left=True)
    assert left <= right
    tied = int(np.count_nonzero(q == x))
    if tied < 2:
        assert left == right
    elif tied < q.size:
        # the jump is the probability the tied quantiles span (from the grid's bottom when they start it)
        lowest = probs[0] * 0.5 if q[0] == x else probs[q == x].min()
        assert right - left == np.float64(probs[q == x].max() - lowest)


def test_a_flat_cumulative_count_that_stays_put_is_an_event_the_backtest_expected() -> None:
    # cumulative counts that stopped growing: the forecast is a mass at the last value (never below it), the
    # growth target of a flat window is the last value, and the outcome reaches it every time
    rng = np.random.default_rng(3)
    flat = [np.full(9, float(v)) for v in (12, 40, 7, 25)]
    growing = [np.cumsum(rng.integers(1, 6, 9)).astype(float) + 10 for _ in range(8)]
    panel = flat + growing
    frame = ob.champion_backtest(
        panel,
        [z.copy() for z in panel],
        Scale(),
        config=ChampionConfig(n_origins=4, min_train=4),
        n_origins=3,
        horizon=2,
        probs=PROBS,
        cumulative=[True] * len(panel),
    )
    on_flat = frame.filter(frame["series"] < len(flat))
    assert on_flat.height > 0
    for k in ob.GROWTH_MULTIPLES:
        assert on_flat[f"event_k{k}"].min() == 1.0
        # the mass at the last value is the whole forecast (or all of it but the grid's lowest half-step)
        assert on_flat[f"p_k{k}"].min() >= 0.99, k


def test_a_share_that_stays_on_its_bound_is_read_from_the_snapped_quantiles() -> None:
    # shares that reached 100 % and stay there: the logit scale only nears the bound, the published quantiles
    # snap to it, and the events (target = 100 for a flat window) must be read from what is published
    rng = np.random.default_rng(5)
    scale = Scale("logit", 0.0, 100.0)
    at_bound = [np.array([100.0, 97.0, 99.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]) for _ in range(3)]
    climbing = [np.clip(60 + np.cumsum(rng.uniform(1, 5, 9)), 0, 99.0) for _ in range(6)]
    raw = at_bound + climbing
    frame = ob.champion_backtest(
        [scale.forward(r) for r in raw],
        [r.copy() for r in raw],
        scale,
        config=ChampionConfig(n_origins=4, min_train=4),
        n_origins=2,
        horizon=2,
        probs=PROBS,
    )
    on_bound = frame.filter((frame["series"] < len(at_bound)) & (frame["y"] == 100.0))
    assert on_bound.height > 0
    assert on_bound["q0.975"].max() == 100.0  # the published bound, not the nudged edge
    # the window starts and ends on the bound, so its growth targets are 100 % and every outcome reached them
    assert on_bound["event_k1.0"].min() == 1.0
    for row in on_bound.iter_rows(named=True):
        # P(Y ≥ 100) is the mass the published quantiles put on the bound (before: about 0, the edge below it)
        on_it = PROBS[np.array(row["qd"]) == 100.0]
        assert on_it.size > 1 and row["p_k1.0"] == 1.0 - on_it.min() > 0.025
