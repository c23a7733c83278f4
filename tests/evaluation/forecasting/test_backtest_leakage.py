"""What the production backtests let a model see, proved by a spy: never a value at or after its cutoff.

The spy is a registered model that records every history it is fitted on and forecasts the largest value
it saw. The series' values are their own time index (plus a per-series offset), so a history's largest
value says how far in time it reached: a fitted history that held the scored actual, or anything later,
would show.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Self

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evaluation.forecasting.origin_backtest as ob
from models.backtest import origins
from models.base import MODELS, Forecast, gaussian_forecast, register
from models.champion import ChampionConfig, Member, backtest_members
from models.transforms import Scale

SPY = Member("spy")


class Spy:
    """Forecasts the largest value it was fitted on; records every history (copied) in :attr:`seen`."""

    seen: ClassVar[list[np.ndarray]] = []

    def fit(self, history: np.ndarray) -> Self:
        Spy.seen.append(np.array(history, copy=True))
        self.max_ = float(np.max(history))
        return self

    def predict(self, horizon: int, levels: Sequence[float] = (80.0, 95.0)) -> Forecast:
        return gaussian_forecast(np.full(horizon, self.max_), np.ones(horizon), levels)

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        return np.full((n, horizon), self.max_)


@pytest.fixture(autouse=True)
def spy() -> Iterator[type[Spy]]:
    """Register the spy for one test, then remove it (the registry stays as production has it)."""
    register("spy")(Spy)
    Spy.seen = []
    yield Spy
    del MODELS["spy"]


def _panel(lengths: Sequence[int]) -> list[np.ndarray]:
    """Series whose value at time t is ``100·(i + 1) + t``: increasing, and its time readable from it."""
    return [100.0 * (i + 1) + np.arange(float(n)) for i, n in enumerate(lengths)]


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(6, 14), min_size=1, max_size=4),
    horizon=st.integers(1, 4),
    n_origins=st.integers(1, 5),
)
def test_the_member_backtest_fits_every_member_on_the_past_only(
    lengths: list[int], horizon: int, n_origins: int
) -> None:
    Spy.seen = []
    panel = _panel(lengths)
    cfg = ChampionConfig(members=(SPY, "naive"), n_origins=n_origins, min_train=4)
    bt = backtest_members(panel, horizon, cfg)
    assert bt.actual.size > 0 and len(Spy.seen) > 0
    # each row's forecast is the latest value its model saw: strictly before the value it is scored on
    seen_up_to = bt.points[SPY]
    assert np.all(seen_up_to < bt.actual)
    # and exactly the value at the row's cutoff (h steps before the target): the backtest uses all the past
    np.testing.assert_array_equal(seen_up_to, bt.actual - bt.h)
    # every history the spy was given is an unaltered beginning of one series
    for hist in Spy.seen:
        series = panel[int(hist[0] // 100) - 1]
        np.testing.assert_array_equal(hist, series[: hist.size])
        assert hist.size < series.size


def test_the_published_backtest_refits_the_champion_on_the_past_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole-champion backtest (the ``backtest_metrics`` source): every fit made for an origin, the
    champion's own member backtest and its final forecast included, ends before that origin's first target."""
    panel = _panel([12, 9, 15, 10])
    fits_by_origin: list[int] = []  # how many spy fits had happened when each origin's refit began
    real = ob.fit_champion

    def marked(*args: object, **kwargs: object) -> object:
        fits_by_origin.append(len(Spy.seen))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ob, "fit_champion", marked)
    cfg = ChampionConfig(members=(SPY, "naive"), n_origins=3, min_train=4, allow_select=False)
    probs = np.linspace(0.01, 0.99, 99)
    frame = ob.champion_backtest(
        panel, [z.copy() for z in panel], Scale(), config=cfg, n_origins=3, horizon=2, probs=probs
    )
    assert frame.height > 0 and len(fits_by_origin) == 3
    bounds = [*fits_by_origin[1:], len(Spy.seen)]
    for offset, (start, end) in enumerate(zip(fits_by_origin, bounds, strict=True), start=1):
        fitted = Spy.seen[start:end]
        assert fitted, offset
        scored = frame.filter(frame["offset"] == offset)
        for sid in scored["series"].unique().to_list():
            first_target = scored.filter(scored["series"] == sid)["y"].min()
            mine = [h for h in fitted if int(h[0] // 100) - 1 == sid]
            assert mine and max(float(h.max()) for h in mine) < first_target, (offset, sid)
        # the origin's last fit is the forecast from the full training window: it reaches the cutoff
        assert max(float(h.max()) for h in fitted) == max(float(z[-1 - offset]) for z in panel)


def test_origins_cut_before_a_filled_gap_and_never_reach_the_end() -> None:
    panel = _panel([10, 10])
    observed = [np.ones(10, bool), np.r_[np.ones(6, bool), np.zeros(2, bool), np.ones(2, bool)]]
    got = [
        (o.offset, o.series, [t.size for t in o.train])
        for o in origins(panel, horizon=3, n_origins=4, min_train=4, observed=observed)
    ]
    # cutoffs at index 8, 7, 6, 5; the second series' 6 and 7 were filled, so it skips offsets 2 and 3
    assert got == [(1, [0, 1], [9, 9]), (2, [0], [8]), (3, [0], [7]), (4, [0, 1], [6, 6])]


def test_filled_gaps_never_start_or_score_a_backtest() -> None:
    """A gap filled by interpolation leans on the next observation; the backtest must not cut inside it."""
    rng = np.random.default_rng(3)
    smooth = [np.cumsum(rng.normal(0.05, 0.1, 12)) for _ in range(3)]
    gappy = np.linspace(0.0, 0.3, 12)
    gappy[6:11] = np.linspace(gappy[5], 3.0, 7)[1:-1]  # filled towards a jump observed at index 11
    gappy[11] = 3.0
    observed = [np.ones(12, bool)] * 3 + [np.r_[np.ones(6, bool), np.zeros(5, bool), True]]
    cfg = ChampionConfig(members=("drift", "naive"), n_origins=6, min_train=4)
    leaky = backtest_members([*smooth, gappy], 3, cfg)
    honest = backtest_members([*smooth, gappy], 3, cfg, observed=observed)
    # without the mask, origins inside the gap see the jump through the filled values
    assert ((leaky.series == 3) & (leaky.offset < 6)).any()
    rows = honest.series == 3
    cutoff = 12 - 1 - honest.offset[rows]
    assert observed[3][cutoff].all()  # every origin of the gappy series is an observed point
    assert observed[3][cutoff + honest.h[rows]].all()  # and every scored actual was observed
    assert honest.actual.size < leaky.actual.size
    assert (honest.series < 3).sum() == (leaky.series < 3).sum()  # complete series keep every row
