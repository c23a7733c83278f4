"""Read the published tables (``<published_dir>/<name>.parquet``); the dashboard's only data source.

Frames are cached per file and re-read when the file changes (its mtime or size), so a page load does
not re-parse Parquet but a fresh ``dtscope run`` shows at once.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import polars as pl

from dashboard.contract import TABLES, conform

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def _read(path: str, name: str, mtime_ns: int, size: int) -> pl.DataFrame:
    """Read and conform one table; ``mtime_ns`` and ``size`` only key the cache."""
    log.debug("reading published table %s (%d bytes)", path, size)
    return conform(name, pl.read_parquet(path))


class PublishedTables:
    """The published-tables folder.

    Args:
        published_dir: folder holding ``<name>.parquet`` for the names in :data:`dashboard.contract.TABLES`.
    """

    def __init__(self, published_dir: Path) -> None:
        self.published_dir = Path(published_dir)

    def path(self, name: str) -> Path:
        """Where table ``name`` lives."""
        return self.published_dir / f"{name}.parquet"

    def read(self, name: str) -> pl.DataFrame | None:
        """Table ``name`` conformed to its contract, or None when it is not published yet.

        Raises:
            KeyError: ``name`` is not in the contract.
            ValueError: the file lacks a required column (re-run the pipeline to republish).
        """
        if name not in TABLES:
            raise KeyError(f"{name!r} is not a published table; known tables: {', '.join(TABLES)}")
        path = self.path(name)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return _read(str(path), name, stat.st_mtime_ns, stat.st_size)

    def available(self) -> list[str]:
        """Names of the contract tables present in the folder."""
        return [name for name in TABLES if self.path(name).exists()]
