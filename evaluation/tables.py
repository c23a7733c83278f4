"""Column types of the tables that the pipelines write and the dashboard reads (one definition for both).

The pipelines validate against these (``pipelines.schemas`` adds the value checks); the dashboard's table
contract (``dashboard.contract``) uses the same dicts, so the two cannot drift apart.
"""

from __future__ import annotations

import polars as pl

Dtypes = dict[str, pl.DataType | type[pl.DataType]]

KPIS: Dtypes = {
    "kpi_id": pl.String,
    "region": pl.String,
    "name_zh": pl.String,
    "name_en": pl.String,
    "unit": pl.String,
    "kind": pl.String,
    "direction": pl.String,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "precision": pl.Float64,
    "cumulative": pl.Boolean,
    "survey": pl.Boolean,
    "levels": pl.String,
    "target_kind": pl.String,
    "target_value": pl.Float64,
    "target_high": pl.Float64,
    "target_label": pl.String,
    "target_year": pl.Int32,
    "obligation": pl.String,
    "source": pl.String,
}

REJECTS: Dtypes = {
    "ingest_id": pl.String,
    "file": pl.String,
    "file_sha256": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "reason_code": pl.String,
    "reason": pl.String,
    "raw": pl.String,
    "vintage": pl.Datetime("us"),
}

INGESTS: Dtypes = {
    "ingest_id": pl.String,
    "file": pl.String,
    "file_sha256": pl.String,
    "layout": pl.String,
    "vintage": pl.Datetime("us"),
    "rows_in": pl.Int64,
    "accepted": pl.Int64,
    "rejected": pl.Int64,
    "unchanged": pl.Int64,
}

SCENARIOS: Dtypes = {
    "scenario_id": pl.String,
    "name_zh": pl.String,
    "name_en": pl.String,
    "region": pl.String,
    "street": pl.String,
    "domain": pl.String,
    "category": pl.String,
    "owner": pl.String,
    "launch_date": pl.Date,
    "budget": pl.Float64,
    "outcome": pl.String,
    "source": pl.String,
}
