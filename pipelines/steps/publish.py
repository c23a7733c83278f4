"""Publish tables for the dashboard and outside readers, atomically as a set.

``HOME/published_tables`` is a symbolic link to a versioned folder ``HOME/.published/<stamp>-<run>``. A
publish writes a complete new folder (new tables plus hard links to the unchanged ones), then swaps the
link with one ``os.replace``: a reader sees the old set or the new set, never a mix. ``manifest.json`` in
each folder says which run wrote which table and from which data vintage and configuration.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from evaluation.tables import PUBLISHED, validate
from pipelines.faults import fault_point
from pipelines.io.catalog import write_text
from pipelines.io.warehouse import Warehouse

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3
MANIFEST = "manifest.json"


def published_dir(home: Path) -> Path:
    return home / "published_tables"


def read_manifest(home: Path) -> dict[str, Any]:
    """The current manifest, or an empty one when nothing was published yet."""
    path = published_dir(home) / MANIFEST
    if not path.exists():
        return {"tables": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_published(home: Path, name: str) -> pl.DataFrame | None:
    """A published table, or None when it was never published."""
    path = published_dir(home) / f"{name}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def check_published(home: Path) -> list[str]:
    """What is wrong with the published set (empty when it is whole, or when nothing was published yet).

    Checks that the link points at a version folder, the manifest reads, every table it names is a
    readable Parquet file with the rows it records, and that the tables a pipeline run published (those
    recorded with ``pinned_at``) all come from the manifest's run.
    """
    link = published_dir(home)
    if not link.exists() and not link.is_symlink():
        return []
    if not link.exists():
        return [f"published_tables points at a missing folder ({os.readlink(link)})"]
    try:
        manifest = read_manifest(home)
    except (OSError, ValueError) as exc:
        return [f"the published manifest cannot be read: {type(exc).__name__}: {exc}"]
    problems = []
    run_id = manifest.get("run_id")
    for name, entry in sorted(manifest.get("tables", {}).items()):
        path = link / f"{name}.parquet"
        try:
            rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        except Exception as exc:  # polars raises several types for a missing or damaged file
            problems.append(f"published table {name} cannot be read: {type(exc).__name__}")
            continue
        if rows != entry.get("rows"):
            problems.append(f"published table {name} has {rows} rows, the manifest says {entry.get('rows')}")
        if run_id and "pinned_at" in entry and entry.get("run_id") != run_id:
            problems.append(
                f"published table {name} comes from run {entry.get('run_id')}, the set from {run_id}"
            )
    return problems


def publish(
    home: Path,
    tables: dict[str, pl.DataFrame],
    *,
    run_id: str,
    info: dict[str, Any] | None = None,
    manifest_fields: dict[str, Any] | None = None,
) -> Path:
    """Publish ``tables`` (name → frame) as one atomic set; other tables already published are kept.

    Args:
        home: the dtscope home.
        tables: frames to publish; each should already carry its ``run_id`` column where the contract says so.
        run_id: the MLflow run that produced them (recorded in the manifest per table).
        info: extra manifest entries for these tables (vintage, config hash, …).
        manifest_fields: top-level manifest entries (e.g. the fingerprint of the run that made the set).

    Returns:
        The new version folder.

    Raises:
        evaluation.tables.TableError: a table named in :data:`evaluation.tables.PUBLISHED` breaks its
            definition; nothing is published.
    """
    for name, frame in tables.items():
        if name in PUBLISHED:  # strictly, as outside readers and the dashboard rely on it
            validate(frame, PUBLISHED[name], what=f"publishing run {run_id}")
    link = published_dir(home)
    versions = home / ".published"
    versions.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():
        # A plain folder from an older layout: adopt it as the first version.
        adopted = versions / "adopted"
        shutil.move(str(link), adopted)
        os.symlink(adopted.relative_to(home), link)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    new = versions / f"{stamp}-{run_id[:12]}"
    new.mkdir()
    manifest = read_manifest(home) | (manifest_fields or {})
    old = link.resolve() if link.exists() else None
    tmp_link = home / f".published_tables.{stamp}"
    try:
        if old is not None:
            for path in old.iterdir():
                if path.name == MANIFEST or path.stem in tables:
                    continue
                os.link(path, new / path.name)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for name, frame in tables.items():
            frame.write_parquet(new / f"{name}.parquet")
            manifest["tables"][name] = {
                "run_id": run_id,
                "rows": frame.height,
                "published_at": now,
                **(info or {}),
            }
        write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), new / MANIFEST)
        fault_point("publish-written")
        os.symlink(new.relative_to(home), tmp_link)
        fault_point("publish-linked")
        os.replace(tmp_link, link)
        fault_point("publish-swapped")
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        tmp_link.unlink(missing_ok=True)
        raise
    _prune(versions, keep=new, current=old)
    _remove_stale_links(home, keep=tmp_link)
    log.info("published %s to %s", ", ".join(sorted(tables)), new)
    warehouse = home / "warehouse.duckdb"
    if warehouse.exists():  # SQL users read the set in the warehouse too (views through the link)
        Warehouse(warehouse).publish_views(link, (p.stem for p in new.glob("*.parquet")))
    return new


def _remove_stale_links(home: Path, *, keep: Path) -> None:
    # A process killed between creating its temporary link and the swap leaves the link behind.
    for stale in home.glob(".published_tables.*"):
        if stale != keep and stale.is_symlink():
            stale.unlink(missing_ok=True)


def _prune(versions: Path, *, keep: Path, current: Path | None) -> None:
    dirs = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in dirs[:-KEEP_VERSIONS]:
        if old in (keep, current):
            continue
        shutil.rmtree(old, ignore_errors=True)
