"""The median correction is kept only when it held up out of time in the panel's own backtest."""

from __future__ import annotations

import numpy as np
import pytest

from models.champion import Champion, ChampionConfig, Member, MemberBacktest, fit_champion
from models.champion.selection import LocationCheck, location_holds, ratio_of_sums
from models.transforms import Scale

N_SERIES, N_ORIGINS, H = 300, 6, 4


def _backtest(bias_recent: float, seed: int = 0) -> tuple[MemberBacktest, np.ndarray]:
    """A synthetic backtest whose errors carry a bias of ``+1`` per unit of the first feature on the
    older rows and ``bias_recent`` per unit on the rows of the 3 most recent origins."""
    rng = np.random.default_rng(seed)
    rows = [
        (s, o, h) for s in range(N_SERIES) for o in range(1, N_ORIGINS + 1) for h in range(1, min(H, o) + 1)
    ]
    series, offset, h = (np.array(c) for c in zip(*rows, strict=True))
    x = rng.uniform(-1, 1, N_SERIES)[series]
    feats = np.column_stack([x, rng.normal(size=series.size)])
    slope = np.where(offset <= 3, bias_recent, 1.0)
    actual = slope * x + rng.normal(0, 0.3, series.size)
    pts = np.zeros(series.size)
    ones = np.ones(series.size)
    bt = MemberBacktest(series, offset, h, actual, ones, ones, ones * 0.5, {Member("naive"): pts}, feats)
    return bt, pts


def test_a_bias_that_persists_passes_the_check() -> None:
    bt, pts = _backtest(bias_recent=1.0)
    check = location_holds(bt, pts, 3)
    assert check is not None and check.ratio < 0.7
    assert not check.raises_error(0.0)


def test_a_bias_that_flips_in_the_recent_origins_fails_it() -> None:
    bt, pts = _backtest(bias_recent=-1.0)
    check = location_holds(bt, pts, 3)
    assert check is not None and check.ratio > 1.0
    assert check.raises_error(1.645)  # a flipped bias on 300 series is no accident


def test_too_few_rows_on_either_side_says_nothing() -> None:
    bt, pts = _backtest(bias_recent=1.0)
    few = bt.take(bt.series < 5)
    assert location_holds(few, pts[bt.series < 5], 3) is None


def _panel(n: int = 120, seed: int = 1) -> list[np.ndarray]:
    """Log-scale yearly series of 12–16 points with trends and noise of different sizes."""
    rng = np.random.default_rng(seed)
    return [
        np.log(100.0)
        + np.cumsum(rng.normal(rng.normal(0.05, 0.04), rng.uniform(0.02, 0.1), int(rng.integers(12, 17))))
        for _ in range(n)
    ]


def test_the_ratio_s_standard_error_is_the_spread_of_the_ratio_over_resampled_series() -> None:
    rng = np.random.default_rng(3)
    b = rng.gamma(2.0, 1.0, 400)
    a = b * rng.normal(1.02, 0.3, 400)
    check = ratio_of_sums(a, b)
    assert check.ratio == pytest.approx(a.sum() / b.sum())
    idx = rng.integers(0, 400, (4000, 400))
    boot = a[idx].sum(axis=1) / b[idx].sum(axis=1)
    assert check.se == pytest.approx(float(boot.std()), rel=0.1)


def _config(**settings: object) -> ChampionConfig:
    """A small champion whose backtest is large enough (500 rows) for the median correction."""
    members = (Member("theta_np"), Member("drift"), Member("naive"))
    return ChampionConfig.model_validate(
        {"n_origins": 6, "min_train": 4, "adaptive_min_rows": 500, "members": members, **settings}
    )


def _fit_checked(
    monkeypatch: pytest.MonkeyPatch, ratio: float, cfg: ChampionConfig
) -> tuple[Champion, list[int]]:
    """Fit with the out-of-time check replaced by one that returns ``ratio`` with an SE of 0.01."""
    seen: list[int] = []

    def check(bt: MemberBacktest, pts: np.ndarray, recent: int) -> LocationCheck:
        seen.append(recent)
        return LocationCheck(ratio, 0.01)

    monkeypatch.setattr("models.champion.fitted.location_holds", check)
    return fit_champion(_panel(), H, cfg, Scale("log")), seen


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ratio", "z", "kept"),
    [(0.8, 0.0, True), (1.2, 0.0, False), (1.013, 0.0, False), (1.013, 1.645, True), (1.2, 1.645, False)],
)
def test_the_champion_keeps_the_correction_only_when_the_check_passes(
    ratio: float, z: float, kept: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rise of 1.3 % with an SE of 1 % switches the correction off at ``z = 0`` (any rise), not at 1.645."""
    champ, seen = _fit_checked(monkeypatch, ratio, _config(location_gate=3, location_gate_z=z))
    assert seen == [3]
    assert champ.location_check == ratio and champ.location_check_se == 0.01
    assert all(bool(c.location) == kept for c in champ.components)
    assert champ.config.location  # the settings are reported as given; the check decided


@pytest.mark.slow
def test_by_default_the_correction_is_checked_at_a_one_sided_five_percent_margin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default checks on the 3 most recent origins and keeps a rise of 1.3 % with an SE of 1 %."""
    cfg = _config()
    assert (cfg.location_gate, cfg.location_gate_z) == (3, 1.645)
    champ, seen = _fit_checked(monkeypatch, 1.013, cfg)
    assert seen == [3]
    assert all(c.location for c in champ.components)


@pytest.mark.slow
def test_without_a_gate_nothing_is_checked() -> None:
    champ = fit_champion(_panel(), H, _config(location_gate=None), Scale("log"))
    assert champ.location_check is None
    assert all(c.location for c in champ.components)
