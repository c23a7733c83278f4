"""The published tables the dashboard reads, as seen through their one definition (:mod:`evaluation.tables`).

Nothing here is written twice: names, columns, dtypes, optional columns and allowed values are all derived
from the pandera models in :data:`evaluation.tables.PUBLISHED`. ``scores`` also carries one ``dim_<id>``
Float64 column per assessment dimension, matched by :data:`DIMENSION_PREFIX`.
"""

from __future__ import annotations

import polars as pl

from evaluation import tables
from evaluation.tables import DIMENSION_PREFIX, SYNTHETIC_SOURCE

TABLES: dict[str, dict[str, tables.Dtype]] = {name: tables.dtypes(m) for name, m in tables.PUBLISHED.items()}
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    name: tables.optional(m) for name, m in tables.PUBLISHED.items()
}
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    (name, column): values
    for name, model in tables.PUBLISHED.items()
    for column, values in tables.allowed(model).items()
}


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with the table's columns in order and typed, optional ones added as nulls.

    Extra columns (``dim_*`` in ``scores``) are kept after the named ones. A column whose dtype differs
    is cast strictly, so a value that does not fit raises instead of silently becoming null (the
    pipeline validates exact dtypes before it publishes; this only tolerates an older published set).
    The argument is not modified.

    Raises:
        KeyError: ``name`` is not a published table.
        ValueError: a required column is missing (the message names it and the command to re-run).

    >>> out = conform("calibration", pl.DataFrame({"model": ["m"], "bin_lo": [0.0], "bin_hi": [0.1],
    ...     "predicted_mean": [0.05], "observed_freq": [0.0], "n": [3], "run_id": ["r"]}))
    >>> out.columns == list(TABLES["calibration"]), out.schema["n"]
    (True, Int64)
    """
    if name not in TABLES:
        raise KeyError(f"{name!r} is not a published table; known tables: {', '.join(TABLES)}")
    columns, optional = TABLES[name], OPTIONAL_COLUMNS[name]
    missing = [c for c in columns if c not in frame.columns and c not in optional]
    if missing:
        raise ValueError(
            f"published table {name!r} lacks the column(s) {missing}; re-run `dtscope run` to republish it"
        )
    exprs = [
        (pl.col(c) if frame.schema.get(c) == dtype else pl.col(c).cast(dtype, strict=True)).alias(c)
        if c in frame.columns
        else pl.lit(None, dtype=dtype).alias(c)
        for c, dtype in columns.items()
    ]
    extra = [pl.col(c) for c in frame.columns if c not in columns]
    return frame.select([*exprs, *extra])


__all__ = ["DIMENSION_PREFIX", "ENUMS", "OPTIONAL_COLUMNS", "SYNTHETIC_SOURCE", "TABLES", "conform"]
