"""Forecast metrics with one signature, one row per series and one column per model.

Every metric is ``metric(frame, models, *, train=None, level=None, id_col="series_id",
target_col="y") -> pl.DataFrame`` where ``frame`` holds the forecasts (``<model>`` point or
probability columns, ``<model>-lo-<level>`` / ``<model>-hi-<level>`` interval columns) and the actual
``y``; ``train`` holds the in-sample ``series_id, y`` rows (in time order) for scaled metrics. Names
say the direction: ``*_error`` / ``*_loss`` lower is better, ``coverage`` should equal its level.
:data:`METRICS` lists them all; :func:`evaluate` stacks several into one long frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

Metric = Callable[..., pl.DataFrame]


def _agg(frame: pl.DataFrame, exprs: list[pl.Expr], id_col: str) -> pl.DataFrame:
    return frame.group_by(id_col, maintain_order=True).agg(exprs)


def _naive_scale(train: pl.DataFrame | None, id_col: str, target_col: str) -> pl.DataFrame:
    if train is None:
        raise ValueError(
            "this metric is scaled by the in-sample naive error: pass train=<series_id, y frame>"
        )
    return train.group_by(id_col, maintain_order=True).agg(
        pl.col(target_col).diff().abs().mean().alias("_scale")
    )


def _bounds(model: str, level: float | None) -> tuple[str, str]:
    if level is None:
        raise ValueError("this metric needs level=<interval level in %>, e.g. level=80")
    tag = f"{level:g}"
    return f"{model}-lo-{tag}", f"{model}-hi-{tag}"


def smape_error(
    frame: pl.DataFrame,
    models: Sequence[str],
    *,
    train: pl.DataFrame | None = None,
    level: float | None = None,
    id_col: str = "series_id",
    target_col: str = "y",
) -> pl.DataFrame:
    """Symmetric MAPE in % (M3 definition: ``200·|y − ŷ| / (|y| + |ŷ|)``), mean per series.

    >>> f = pl.DataFrame({"series_id": ["a", "a"], "y": [100.0, 100.0], "m": [100.0, 50.0]})
    >>> round(smape_error(f, ["m"])["m"][0], 4)
    33.3333
    """
    y = pl.col(target_col)
    exprs = [
        (200 * (y - pl.col(m)).abs() / (y.abs() + pl.col(m).abs())).fill_nan(0.0).mean().alias(m)
        for m in models
    ]
    return _agg(frame, exprs, id_col)


def mase_error(
    frame: pl.DataFrame,
    models: Sequence[str],
    *,
    train: pl.DataFrame | None = None,
    level: float | None = None,
    id_col: str = "series_id",
    target_col: str = "y",
) -> pl.DataFrame:
    """Mean absolute error scaled by the in-sample one-step naive MAE (non-seasonal).

    >>> f = pl.DataFrame({"series_id": ["a"], "y": [10.0], "m": [8.0]})
    >>> t = pl.DataFrame({"series_id": ["a", "a", "a"], "y": [1.0, 2.0, 3.0]})
    >>> mase_error(f, ["m"], train=t)["m"].to_list()
    [2.0]
    """
    scale = _naive_scale(train, id_col, target_col)
    exprs = [(pl.col(target_col) - pl.col(m)).abs().mean().alias(m) for m in models]
    out = _agg(frame, exprs, id_col).join(scale, on=id_col, how="left")
    return out.select(id_col, *[(pl.col(m) / pl.col("_scale")).alias(m) for m in models])


def coverage(
    frame: pl.DataFrame,
    models: Sequence[str],
    *,
    train: pl.DataFrame | None = None,
    level: float | None = None,
    id_col: str = "series_id",
    target_col: str = "y",
) -> pl.DataFrame:
    """Share of actuals inside the ``level`` % interval (should be near ``level / 100``).

    >>> f = pl.DataFrame({"series_id": ["a", "a"], "y": [1.0, 5.0], "m-lo-80": [0.0, 0.0], "m-hi-80": [2.0, 2.0]})
    >>> coverage(f, ["m"], level=80)["m"].to_list()
    [0.5]
    """
    exprs = []
    for m in models:
        lo, hi = _bounds(m, level)
        inside = (pl.col(target_col) >= pl.col(lo)) & (pl.col(target_col) <= pl.col(hi))
        exprs.append(inside.cast(pl.Float64).mean().alias(m))
    return _agg(frame, exprs, id_col)


def msis_error(
    frame: pl.DataFrame,
    models: Sequence[str],
    *,
    train: pl.DataFrame | None = None,
    level: float | None = None,
    id_col: str = "series_id",
    target_col: str = "y",
) -> pl.DataFrame:
    """Mean scaled interval score (M4): width plus ``2/α`` times misses, over the naive in-sample MAE.

    >>> f = pl.DataFrame({"series_id": ["a"], "y": [5.0], "m-lo-95": [0.0], "m-hi-95": [2.0]})
    >>> t = pl.DataFrame({"series_id": ["a", "a"], "y": [0.0, 1.0]})
    >>> round(msis_error(f, ["m"], train=t, level=95)["m"][0], 6)
    122.0
    """
    scale = _naive_scale(train, id_col, target_col)
    alpha = 1 - (level or 0) / 100
    y = pl.col(target_col)
    exprs = []
    for m in models:
        lo, hi = _bounds(m, level)
        score = (
            (pl.col(hi) - pl.col(lo))
            + (2 / alpha) * (pl.col(lo) - y).clip(lower_bound=0)
            + (2 / alpha) * (y - pl.col(hi)).clip(lower_bound=0)
        )
        exprs.append(score.mean().alias(m))
    out = _agg(frame, exprs, id_col).join(scale, on=id_col, how="left")
    return out.select(id_col, *[(pl.col(m) / pl.col("_scale")).alias(m) for m in models])


def pinball_loss(
    frame: pl.DataFrame,
    models: Sequence[str],
    *,
    train: pl.DataFrame | None = None,
    level: float | None = None,
    id_col: str = "series_id",
    target_col: str = "y",
) -> pl.DataFrame:
    """Mean pinball loss of the two bounds of the ``level`` % interval and the median (``<model>``),
    times 2 (so it approximates the CRPS), scaled by the naive in-sample MAE when ``train`` is given.

    >>> f = pl.DataFrame({"series_id": ["a"], "y": [1.0], "m": [1.0], "m-lo-80": [0.0], "m-hi-80": [2.0]})
    >>> round(pinball_loss(f, ["m"], level=80)["m"][0], 4)
    0.1333
    """
    p_lo = (1 - (level or 0) / 100) / 2
    y = pl.col(target_col)

    def pin(col: str, p: float) -> pl.Expr:
        diff = y - pl.col(col)
        return pl.max_horizontal(p * diff, (p - 1) * diff)

    exprs = []
    for m in models:
        lo, hi = _bounds(m, level)
        loss = 2 * (pin(lo, p_lo) + pin(m, 0.5) + pin(hi, 1 - p_lo)) / 3
        exprs.append(loss.mean().alias(m))
    out = _agg(frame, exprs, id_col)
    if train is None:
        return out
    scale = _naive_scale(train, id_col, target_col)
    out = out.join(scale, on=id_col, how="left")
    return out.select(id_col, *[(pl.col(m) / pl.col("_scale")).alias(m) for m in models])


def brier_loss(
    frame: pl.DataFrame,
    models: Sequence[str],
    *,
    train: pl.DataFrame | None = None,
    level: float | None = None,
    id_col: str = "series_id",
    target_col: str = "y",
) -> pl.DataFrame:
    """Brier score: mean ``(p − outcome)²``; model columns hold probabilities, ``y`` the 0/1 outcome.

    >>> f = pl.DataFrame({"series_id": ["a", "a"], "y": [1.0, 0.0], "m": [0.8, 0.4]})
    >>> round(brier_loss(f, ["m"])["m"][0], 4)
    0.1
    """
    exprs = [((pl.col(m) - pl.col(target_col)) ** 2).mean().alias(m) for m in models]
    return _agg(frame, exprs, id_col)


METRICS: dict[str, Metric] = {
    "smape_error": smape_error,
    "mase_error": mase_error,
    "coverage": coverage,
    "msis_error": msis_error,
    "pinball_loss": pinball_loss,
    "brier_loss": brier_loss,
}


def evaluate(
    frame: pl.DataFrame,
    metrics: Sequence[str | tuple[str, float]],
    models: Sequence[str],
    *,
    train: pl.DataFrame | None = None,
    id_col: str = "series_id",
    target_col: str = "y",
) -> pl.DataFrame:
    """Stack metrics into one long frame ``series_id, metric, <model…>``.

    Args:
        metrics: names from :data:`METRICS`, or ``(name, level)`` pairs for interval metrics; the
            ``metric`` column reads e.g. ``coverage-80``.

    Raises:
        KeyError: unknown metric name; the message lists the known ones.
    """
    parts = []
    for spec in metrics:
        name, level = (spec, None) if isinstance(spec, str) else spec
        if name not in METRICS:
            raise KeyError(f"unknown metric {name!r}; known metrics: {', '.join(METRICS)}")
        part = METRICS[name](frame, models, train=train, level=level, id_col=id_col, target_col=target_col)
        label = name if level is None else f"{name}-{level:g}"
        parts.append(part.with_columns(pl.lit(label).alias("metric")).select(id_col, "metric", *models))
    return pl.concat(parts)
