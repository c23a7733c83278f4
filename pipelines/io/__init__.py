"""Everything that knows a path or a format.

- :mod:`~pipelines.io.catalog` — reading input files and the one atomic writer;
- :mod:`~pipelines.io.parsing` — what government cells contain: values, qualifiers, units, periods;
- :mod:`~pipelines.io.warehouse` — DuckDB: append-only vintages, as-of reads, one transaction per ingest;
- :mod:`~pipelines.io.kpi_registry` — the KPI registry and regions (``data/registry/*.yaml``), validated on load;
- :mod:`~pipelines.io.published_figures` — the layout of real published figures and their mapping to KPIs.
"""

__all__ = ["catalog", "kpi_registry", "parsing", "published_figures", "warehouse"]
