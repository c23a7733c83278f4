"""The champion fitted in chunks gives the numbers of the champion fitted whole, whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest

from models.champion import ChampionConfig, fit_champion
from models.champion.chunked import Piece, fit_chunked, forecast_piece, plan_fit, uniform_key
from models.transforms import Scale

PROBS = np.array([0.025, 0.1, 0.5, 0.9, 0.975])


def _panel(n: int, seed: int = 0) -> list[np.ndarray]:
    """Log-scale yearly series of 10–22 points: trends, damping and noise of different sizes."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m = int(rng.integers(10, 23))
        trend = rng.normal(0.05, 0.04)
        noise = rng.uniform(0.01, 0.12)
        out.append(np.log(100.0) + np.cumsum(trend * 0.9 ** np.arange(m) + rng.normal(0, noise, m)))
    return out


def _pieces(panel: list[np.ndarray], size: int) -> list[Piece]:
    return [Piece(a, tuple(panel[a : a + size])) for a in range(0, len(panel), size)]


def _forecast(panel: list[np.ndarray], size: int, cfg: ChampionConfig, horizon: int = 4) -> np.ndarray:
    pieces = _pieces(panel, size)
    champ = fit_chunked(pieces, horizon, cfg, Scale("log"), lengths=[len(z) for z in panel])
    return np.concatenate([forecast_piece(champ, p, horizon, PROBS)[1] for p in pieces])


@pytest.mark.slow
@pytest.mark.parametrize("gate", [None, 3])
def test_chunk_sizes_give_the_same_quantiles_with_pooled_and_adaptive_parts_on(gate: int | None) -> None:
    panel = _panel(160)
    # small caps so both samples are taken (pooled rows and calibration rows) on a test-sized panel
    cfg = ChampionConfig(
        n_origins=6, min_train=4, max_pool_rows=4000, max_calibration_rows=1500, location_gate=gate
    )
    plan = plan_fit([len(z) for z in panel], 4, cfg, Scale("log"))
    assert plan.calib_rate < 1 and min(plan.pool_rate.values()) < 1
    whole = _forecast(panel, len(panel), cfg)
    champ = fit_champion(panel, 4, cfg, Scale("log"))
    assert champ.difficulty  # the adaptive parts are on (≥ adaptive_min_rows rows)
    if gate is None:
        assert champ.location  # the median correction, unchecked
    else:  # the default: checked, and on this panel switched off (ratio 1.049, SE 0.029); every chunking agrees
        assert champ.location_check is not None and not champ.location
    np.testing.assert_allclose(champ.forecast(panel, 4, PROBS)[1], whole, rtol=0, atol=1e-9)
    for size in (1, 37, 64):
        np.testing.assert_allclose(_forecast(panel, size, cfg), whole, rtol=0, atol=1e-9)


def test_uniform_key_is_a_function_of_the_row_not_of_its_chunk() -> None:
    a = uniform_key(3, np.arange(10), np.full(10, 2), np.ones(10, int))
    b = uniform_key(3, np.arange(5, 10), np.full(5, 2), np.ones(5, int))
    assert np.array_equal(a[5:], b)
    assert 0.48 < float(np.mean(uniform_key(1, np.arange(20_000)) < 0.5)) < 0.52


def test_panels_under_the_caps_keep_every_row() -> None:
    plan = plan_fit([20] * 100, 4, ChampionConfig(), Scale("log"))
    assert plan.calib_rate == 1 and set(plan.pool_rate.values()) == {1.0}
