"""Turn warehouse observations into the annual series the forecasting step fits: a pure step.

One series per (kpi_id, region), from ONE data set so real and synthetic numbers never mix in a fit:

- every observation belongs to a data set by its ``source``: ``synthetic-demo``, ``plan`` (the plans'
  baseline facts), ``published`` (real published figures), ``file`` (a user's own files) or ``derived``
  (numbers dtscope itself wrote, such as the benchmark-scenario counts of ``dtscope score``);
- the data set with the most annual points feeds the series; on a tie real data (file, published, plan)
  wins over synthetic, and anything wins over derived;
- within a data set, several figures for one year (two sources, or an exact value and a lower bound) are
  reduced to one: exact (``=``) figures first, then approximate (``~``), then bounds, and their median;
- years are made contiguous from the first to the last observed year, missing years left null (the
  models interpolate on their own scale, and the gap is visible in the output).
"""

from __future__ import annotations

import polars as pl

from evaluation import tables

DATA_SET_PRIORITY = {"file": 0, "published": 1, "plan": 2, "synthetic-demo": 3, "derived": 4}
QUALIFIER_PRIORITY = {"=": 0, "~": 1, ">": 2, "<": 2}

SERIES_SCHEMA = tables.dtypes(tables.AnnualSeries)


def data_set_expr(source: pl.Expr | None = None) -> pl.Expr:
    """Classify a ``source`` column into its data set.

    >>> df = pl.DataFrame({"source": ["synthetic-demo", "plan: x", "file:a.csv", "dtscope score (default)", "人民日报"]})
    >>> df.select(data_set_expr())["data_set"].to_list()
    ['synthetic-demo', 'plan', 'file', 'derived', 'published']
    """
    src = pl.col("source") if source is None else source
    return (
        pl.when(src.str.starts_with("synthetic"))
        .then(pl.lit("synthetic-demo"))
        .when(src.str.starts_with("plan:"))
        .then(pl.lit("plan"))
        .when(src.str.starts_with("file:"))
        .then(pl.lit("file"))
        .when(src.str.starts_with("dtscope"))
        .then(pl.lit("derived"))
        .otherwise(pl.lit("published"))
        .alias("data_set")
    )


def annual_series(observations: pl.DataFrame) -> pl.DataFrame:
    """Build one contiguous annual series per (kpi_id, region) from the best data set.

    Args:
        observations: the ``observations`` table (latest vintage), columns incl. kpi_id, region, period,
            freq, value, std_error, qualifier, source.

    Returns:
        Columns :data:`SERIES_SCHEMA`, sorted by kpi_id, region, year; missing years have null ``value``.

    >>> from datetime import date
    >>> obs = pl.DataFrame({
    ...     "kpi_id": ["k"] * 4, "region": ["r"] * 4, "freq": ["Y"] * 4,
    ...     "period": [date(2018, 1, 1), date(2019, 1, 1), date(2021, 1, 1), date(2021, 1, 1)],
    ...     "value": [11.0, 27.6, 77.0, 70.0], "std_error": [None] * 4, "qualifier": ["=", "=", "=", ">"],
    ...     "source": ["a", "b", "c", "d"]})
    >>> annual_series(obs).select("year", "value", "n_sources").rows()
    [(2018, 11.0, 1), (2019, 27.6, 1), (2020, None, 0), (2021, 77.0, 2)]
    """
    annual = observations.filter(pl.col("freq") == "Y").with_columns(
        data_set_expr(), pl.col("period").dt.year().cast(pl.Int32).alias("year")
    )
    if annual.height == 0:
        return pl.DataFrame(schema=SERIES_SCHEMA)
    counts = (
        annual.group_by("kpi_id", "region", "data_set")
        .agg(pl.col("year").n_unique().alias("n_years"))
        .with_columns(pl.col("data_set").replace_strict(DATA_SET_PRIORITY, default=9).alias("prio"))
        .sort(["kpi_id", "region", "n_years", "prio"], descending=[False, False, True, False])
        .group_by("kpi_id", "region", maintain_order=True)
        .first()
        .select("kpi_id", "region", "data_set")
    )
    chosen = annual.join(counts, on=["kpi_id", "region", "data_set"], how="inner").with_columns(
        pl.col("qualifier").replace_strict(QUALIFIER_PRIORITY, default=3).alias("qprio")
    )
    best_q = chosen.group_by("kpi_id", "region", "year").agg(pl.col("qprio").min().alias("best"))
    per_year = (
        chosen.join(best_q, on=["kpi_id", "region", "year"])
        .group_by("kpi_id", "region", "year")
        .agg(
            pl.col("value").filter(pl.col("qprio") == pl.col("best")).median().alias("value"),
            pl.col("std_error").filter(pl.col("qprio") == pl.col("best")).median().alias("std_error"),
            pl.col("qualifier").filter(pl.col("qprio") == pl.col("best")).first().alias("qualifier"),
            pl.col("data_set").first(),
            pl.len().cast(pl.Int32).alias("n_sources"),
        )
    )
    spans = per_year.group_by("kpi_id", "region").agg(
        pl.int_ranges(pl.col("year").min(), pl.col("year").max() + 1, dtype=pl.Int32).first().alias("year"),
        pl.col("data_set").first(),
    )
    grid = spans.explode("year")
    out = grid.join(per_year.drop("data_set"), on=["kpi_id", "region", "year"], how="left").with_columns(
        pl.col("n_sources").fill_null(0)
    )
    return out.select(list(SERIES_SCHEMA)).cast(SERIES_SCHEMA).sort("kpi_id", "region", "year")  # type: ignore[arg-type]
