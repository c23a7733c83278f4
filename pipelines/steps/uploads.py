"""What the dashboard's upload box calls: validate a file with the ingest rules, then ingest it on confirm.

The dashboard may not import the pipelines (layer rule), so the CLI builds these handlers and passes them
in. Confirming an upload runs the normal warehouse ingest and republishes the data tables the Data page
shows (observations, rejects, ingests).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from pipelines.io.catalog import file_sha256, read_table
from pipelines.io.kpi_registry import load_registry
from pipelines.io.warehouse import Warehouse
from pipelines.settings import Settings
from pipelines.steps.ingest import validate_table


class UploadHandlers:
    """Upload callbacks bound to one dtscope home."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _with_file(self, filename: str, content: bytes) -> Path:
        tmp = Path(tempfile.mkdtemp(prefix="dtscope-upload-"))
        path = tmp / Path(filename).name
        path.write_bytes(content)
        return path

    def validate(self, filename: str, content: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Accepted and rejected rows of an uploaded file, without writing anything."""
        path = self._with_file(filename, content)
        result = validate_table(
            read_table(path), load_registry(self.settings.registry_dir), file_label=filename
        )
        return result.accepted, result.rejects

    def confirm(self, filename: str, content: bytes) -> str:
        """Ingest the uploaded file and republish the data tables; returns a one-line summary."""
        path = self._with_file(filename, content)
        registry = load_registry(self.settings.registry_dir)
        result = validate_table(read_table(path), registry, file_label=filename)
        warehouse = Warehouse(
            self.settings.warehouse_path,
            lock_path=self.settings.lock_path,
            lock_timeout=self.settings.lock_timeout,
        )
        summary = warehouse.ingest(result, file=f"upload:{filename}", file_sha256=file_sha256(path))
        return (
            f"{filename}: {summary.rows_in} in, {summary.accepted} accepted, {summary.unchanged} unchanged, "
            f"{summary.rejected} rejected"
        )
