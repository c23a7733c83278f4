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

from pipelines.io.catalog import write_text

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
    """
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
        os.symlink(new.relative_to(home), tmp_link)
        os.replace(tmp_link, link)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        tmp_link.unlink(missing_ok=True)
        raise
    _prune(versions, keep=new, current=old)
    log.info("published %s to %s", ", ".join(sorted(tables)), new)
    return new


def _prune(versions: Path, *, keep: Path, current: Path | None) -> None:
    dirs = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in dirs[:-KEEP_VERSIONS]:
        if old in (keep, current):
            continue
        shutil.rmtree(old, ignore_errors=True)
