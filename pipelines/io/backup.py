"""Backup, restore and integrity check of a dtscope home: warehouse, published set, service store.

A backup folder holds ``warehouse.duckdb`` (copied under the writer lock, so no ingest is half in it),
``published/`` (the current published version folder; version folders are never changed once swapped in),
``service.db`` when the home has one (SQLite's online backup API, consistent while the service runs), and
``backup.json`` naming every file with its SHA-256 and the run whose set it holds. :func:`restore` checks
every file against ``backup.json`` first and then swaps each part in with a rename; :func:`check` reports
what is wrong with a home (or a backup) in sentences, empty when all is well.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock

from pipelines.io.catalog import file_sha256, write_text
from pipelines.io.warehouse import WarehouseDamaged, _check_size
from pipelines.settings import Settings
from pipelines.steps import publish

MANIFEST = "backup.json"
WAREHOUSE = "warehouse.duckdb"
SERVICE_DB = "service.db"
PUBLISHED = "published"
WAREHOUSE_TABLES = ("observations", "rejects", "ingests")


class BackupError(RuntimeError):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds."""

    path: Path
    created_at: str
    files: dict[str, str]
    published_run_id: str | None


def _sqlite_copy(src: Path, dst: Path) -> None:
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _lock(settings: Settings, timeout: float) -> FileLock:
    lock = FileLock(str(settings.lock_path))
    lock.acquire(timeout=timeout)
    return lock


def backup(settings: Settings, dest: Path | None = None) -> BackupInfo:
    """Snapshot the home into ``dest`` (default ``HOME/backups/<UTC stamp>``); refuse a damaged source.

    Raises:
        BackupError: the home is damaged (a backup of a broken warehouse would hide the last good one),
            or ``dest`` exists and is not empty.
    """
    problems = check(settings)
    if problems:
        raise BackupError("the home is not consistent, so no backup was made: " + "; ".join(problems))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = dest or settings.home / "backups" / stamp
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; give a new folder")
    staging = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        lock = _lock(settings, settings.lock_timeout)  # no ingest lands while we copy
        try:
            if settings.warehouse_path.exists():
                shutil.copy2(settings.warehouse_path, staging / WAREHOUSE)
            link = publish.published_dir(settings.home)
            if link.exists():
                shutil.copytree(link.resolve(), staging / PUBLISHED)
        finally:
            lock.release()
        service_db = settings.home / SERVICE_DB
        if service_db.exists():
            _sqlite_copy(service_db, staging / SERVICE_DB)
        files = {
            str(p.relative_to(staging)): file_sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()
        }
        run_id = _published_run(staging)
        info = {"created_at": stamp, "files": files, "published_run_id": run_id}
        write_text(json.dumps(info, indent=2, sort_keys=True), staging / MANIFEST)
        problems = _check_parts(staging / WAREHOUSE, staging / PUBLISHED, staging / SERVICE_DB)
        if problems:
            raise BackupError("the copy failed its own check: " + "; ".join(problems))
        if dest.exists():
            dest.rmdir()
        os.replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupInfo(dest, stamp, files, run_id)


def _published_run(folder: Path) -> str | None:
    path = folder / PUBLISHED / publish.MANIFEST
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    run_id = data.get("run_id")
    return str(run_id) if run_id else None


def read_backup(src: Path) -> BackupInfo:
    """Read and verify a backup folder: every file present with the SHA-256 ``backup.json`` records.

    Raises:
        BackupError: not a backup, or a file is missing or changed.
    """
    path = src / MANIFEST
    if not path.exists():
        raise BackupError(f"{src} is not a dtscope backup (no {MANIFEST}); make one with `dtscope backup`")
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        files: dict[str, str] = dict(info["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path} cannot be read ({type(exc).__name__})") from None
    for name, digest in files.items():
        part = src / name
        if not part.is_file():
            raise BackupError(f"the backup {src} lacks {name}")
        if file_sha256(part) != digest:
            raise BackupError(f"{name} in the backup {src} changed since the backup was made")
    return BackupInfo(src, str(info.get("created_at", "")), files, info.get("published_run_id"))


def restore(settings: Settings, src: Path) -> BackupInfo:
    """Bring a verified backup back into the home: warehouse, published set, service store.

    Each part is copied beside its target and renamed over it; the warehouse under the writer lock.
    """
    info = read_backup(src)
    problems = _check_parts(src / WAREHOUSE, src / PUBLISHED, src / SERVICE_DB)
    if problems:
        raise BackupError(f"the backup {src} is damaged: " + "; ".join(problems))
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    lock = _lock(settings, settings.lock_timeout)
    try:
        if (src / WAREHOUSE).exists():
            tmp = home / f".{WAREHOUSE}.restore-{stamp}"
            shutil.copy2(src / WAREHOUSE, tmp)
            os.replace(tmp, settings.warehouse_path)
            wal = settings.warehouse_path.with_name(WAREHOUSE + ".wal")
            wal.unlink(missing_ok=True)  # a log of the damaged file must not be replayed onto the backup
        if (src / PUBLISHED).is_dir():
            versions = home / ".published"
            versions.mkdir(exist_ok=True)
            folder = versions / f"{stamp}-restored"
            shutil.copytree(src / PUBLISHED, folder)
            link = publish.published_dir(home)
            if link.exists() and not link.is_symlink():
                shutil.rmtree(link)
            tmp_link = home / f".published_tables.{stamp}"
            os.symlink(folder.relative_to(home), tmp_link)
            os.replace(tmp_link, link)
    finally:
        lock.release()
    if (src / SERVICE_DB).exists():
        tmp = home / f".{SERVICE_DB}.restore-{stamp}"
        _sqlite_copy(src / SERVICE_DB, tmp)
        os.replace(tmp, home / SERVICE_DB)
    return info


def _check_warehouse(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).casefold():
            return []  # a writer holds it: not damage
        return [
            f"the warehouse {path.name} is damaged: {str(exc).splitlines()[0].removeprefix('IO Error: ')}"
        ]
    except duckdb.Error as exc:
        return [f"the warehouse {path.name} cannot be opened: {type(exc).__name__}"]
    problems = []
    try:
        _check_size(con, path)
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for table in WAREHOUSE_TABLES:
            if table not in present:
                problems.append(f"the warehouse has no {table} table")
                continue
            con.execute(f'SELECT count(*), max(vintage) FROM "{table}"').fetchall()
        if "observations" in present:
            # every column of every row: a damaged block fails here
            con.execute("SELECT sum(hash(o)) FROM observations o").fetchall()
    except WarehouseDamaged as exc:
        problems.append(f"the warehouse {path.name} is damaged: {str(exc).split('(', 1)[1].split(')')[0]}")
    except duckdb.Error as exc:
        problems.append(f"the warehouse cannot be read through: {str(exc).splitlines()[0]}")
    finally:
        con.close()
    return problems


def _check_service(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return [f"the service store {path.name} is damaged: {exc}"]
    if result != [("ok",)]:
        return [f"the service store {path.name} fails its integrity check: {result[0][0]}"]
    return []


def _check_parts(warehouse: Path, published: Path, service_db: Path) -> list[str]:
    problems = _check_warehouse(warehouse) + _check_service(service_db)
    if published.is_dir():
        # check_published reads HOME/published_tables; give it a stand-in home for a plain folder
        problems += _check_published_folder(published)
    return problems


def _check_published_folder(folder: Path) -> list[str]:
    staging = folder.parent / f".check-{os.getpid()}"
    staging.mkdir(exist_ok=True)
    link = staging / "published_tables"
    try:
        if link.is_symlink():
            link.unlink()
        os.symlink(folder.resolve(), link)
        return publish.check_published(staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check(settings: Settings) -> list[str]:
    """What is wrong with the home's warehouse, published set and service store (empty: all is well)."""
    home = settings.home
    problems = _check_warehouse(settings.warehouse_path)
    problems += publish.check_published(home)
    problems += _check_service(home / SERVICE_DB)
    manifest_run = publish.read_manifest(home).get("run_id") if not problems else None
    if manifest_run and not settings.warehouse_path.exists():
        problems.append(
            f"the published set comes from run {manifest_run} but the warehouse {WAREHOUSE} is missing"
        )
    return problems
