"""Turn warehouse observations into the annual series the forecasting step fits: a pure step.

One series per (kpi_id, region), from ONE data set so real and synthetic numbers never mix in a fit:

- every observation belongs to a data set by its ``provenance`` (who loaded it and how, set by the loader,
  never by the file's text): ``synthetic-demo`` (the demo loader), ``plan`` and ``published`` (the shipped
  plan baselines and published figures, loaded by their own loader), ``file`` (any user file, whatever
  its ``source`` says) or ``derived`` (numbers dtscope itself wrote, such as the benchmark-scenario counts
  of ``dtscope score``); ``source`` only tells a plan baseline from a published figure among the
  shipped rows;
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


def data_set_expr(provenance: pl.Expr | None = None, source: pl.Expr | None = None) -> pl.Expr:
    """Classify observations into their data set from ``provenance`` (the one classifier).

    ``source`` is free text a file may set to anything, so it decides nothing about trust: it only splits
    the shipped (``published``) rows into plan baselines (``plan: …``) and published figures.

    >>> df = pl.DataFrame({
    ...     "provenance": ["synthetic", "published", "published", "uploaded", "derived", "uploaded"],
    ...     "source": ["synthetic-demo", "plan: x", "统计年鉴", "file:a.csv", "dtscope score", "人民日报"]})
    >>> df.select(data_set_expr())["data_set"].to_list()
    ['synthetic-demo', 'plan', 'published', 'file', 'derived', 'file']
    """
    prov = pl.col("provenance") if provenance is None else provenance
    src = pl.col("source") if source is None else source
    return (
        pl.when(prov == "synthetic")
        .then(pl.lit("synthetic-demo"))
        .when((prov == "published") & src.str.starts_with("plan:"))
        .then(pl.lit("plan"))
        .when(prov == "published")
        .then(pl.lit("published"))
        .when(prov == "derived")
        .then(pl.lit("derived"))
        .otherwise(pl.lit("file"))  # uploaded, or anything unvouched: the user's own file
        .alias("data_set")
    )


def annual_series(observations: pl.DataFrame) -> pl.DataFrame:
    """Build one contiguous annual series per (kpi_id, region) from the best data set.

    Args:
        observations: the ``observations`` table (latest vintage), columns incl. kpi_id, region, period,
            freq, value, std_error, qualifier, source, provenance (absent: ``uploaded``).

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
    if "provenance" not in observations.columns:  # a frame nobody vouched for is a user's file
        observations = observations.with_columns(pl.lit("uploaded").alias("provenance"))
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
