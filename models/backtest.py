"""The one rolling-origin backtest: which histories a model may be fitted on at each origin.

At origin ``offset`` the cutoff of a series of ``n`` points is index ``n − 1 − offset``: a model is fitted on
the points up to and including the cutoff, never later, and forecasts the next ``min(horizon, offset)``
points, which exist. Every backtest in dtscope walks these origins: the champion's member backtest
(:func:`models.champion.backtest_members`, which chooses and calibrates the champion) and the backtest of
the whole champion procedure that the pipeline publishes
(:func:`evaluation.forecasting.origin_backtest.champion_backtest`).

A series takes part at an origin when its history up to the cutoff holds at least ``min_train`` points and,
when ``observed`` is given, its cutoff point was observed: a gap filled by interpolation leans on a later
observation, so a window ending in one would see the future.

>>> [(o.offset, o.series, [t.tolist() for t in o.train], o.steps)
...  for o in origins([np.arange(5.0)], horizon=2, n_origins=3, min_train=2)]
[(1, [0], [[0.0, 1.0, 2.0, 3.0]], 1), (2, [0], [[0.0, 1.0, 2.0]], 2), (3, [0], [[0.0, 1.0]], 2)]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Origin:
    """One backtest origin.

    Attributes:
        offset: how far the cutoff lies before each series' last point (cutoff index = ``n − 1 − offset``).
        series: indices of the series taking part.
        train: their histories up to and including the cutoff (views, not copies: do not write to them).
        steps: horizons scored at this origin, ``min(horizon, offset)``.
    """

    offset: int
    series: list[int]
    train: list[np.ndarray]
    steps: int


def origins(
    histories: Sequence[np.ndarray],
    *,
    horizon: int,
    n_origins: int,
    min_train: int,
    observed: Sequence[np.ndarray] | None = None,
) -> Iterator[Origin]:
    """The origins ``offset = 1 … n_origins`` at which at least one series takes part (see the module).

    Args:
        histories: one 1-D array per series (oldest first).
        horizon: the longest horizon scored.
        n_origins: how many cutoffs per series, counting back from the last point.
        min_train: fewest points a training window may hold.
        observed: per series, which points were observed rather than filled.
    """
    for offset in range(1, n_origins + 1):
        idx = [
            i
            for i, z in enumerate(histories)
            if len(z) - offset >= min_train and (observed is None or bool(observed[i][len(z) - offset - 1]))
        ]
        if idx:
            train = [histories[i][: len(histories[i]) - offset] for i in idx]
            yield Origin(offset, idx, train, min(horizon, offset))
