"""One typed settings object, built once at the CLI and passed down as an argument.

Paths derive from one anchor, :data:`PROJECT_ROOT`. The *home* folder holds ``warehouse.duckdb``, the
published tables and (unless it is the project's own ``data/``) ``mlruns/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = PROJECT_ROOT / "data"
REGISTRY_DIR = PROJECT_ROOT / "data" / "registry"
DEMO_DIR = PROJECT_ROOT / "data" / "demo"
PUBLISHED_DATA_DIR = PROJECT_ROOT / "data" / "published"
HOME_ENV = "DTSCOPE_HOME"


@dataclass(frozen=True)
class HomeFolder:
    """What a dtscope home folder holds: the warehouse, its writer lock and the published tables.

    :class:`Settings` and the service's settings both extend it, so the layout is written once.
    """

    home: Path

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def lock_path(self) -> Path:
        return self.home / "warehouse.duckdb.writer.lock"

    @property
    def published_dir(self) -> Path:
        return self.home / "published_tables"


@dataclass(frozen=True)
class Settings(HomeFolder):
    """Where dtscope reads and writes.

    Attributes:
        home: folder holding the warehouse and published tables (:class:`HomeFolder`).
        registry_dir: folder with ``kpis.yaml``, ``regions.yaml`` and assessment schemes.
        mlruns_dir: the MLflow store folder (sqlite database + artifacts).
        lock_timeout: seconds a writer waits for another writer before giving up.
    """

    registry_dir: Path = REGISTRY_DIR
    mlruns_dir: Path = PROJECT_ROOT / "mlruns"
    lock_timeout: float = 60.0


def resolve_settings(home: Path | str | None = None, *, lock_timeout: float = 60.0) -> Settings:
    """Build the settings from ``--home``, else ``$DTSCOPE_HOME``, else the project's ``data/``.

    A home other than the default keeps its MLflow store inside itself (``HOME/mlruns``), so tests
    and outside tools that point ``--home`` at a temporary folder never touch the project's store.
    """
    chosen = home if home is not None else os.environ.get(HOME_ENV) or None
    if chosen is None:
        return Settings(home=DEFAULT_HOME, lock_timeout=lock_timeout)
    path = Path(chosen).expanduser().resolve()
    if path == DEFAULT_HOME.resolve():
        return Settings(home=path, lock_timeout=lock_timeout)
    return Settings(home=path, mlruns_dir=path / "mlruns", lock_timeout=lock_timeout)
