"""The one world every test folder may use: what a real ``dtscope demo`` + ``dtscope run`` publishes.

``published_home`` builds it once per test session into a temporary home (warehouse, published tables and
the MLflow store all inside it), through the ``dtscope`` command line as an outside user would, so the
tables the tests read are exactly the ones the product publishes. Tests that need special data copy the
published set (the ``published_copy`` fixture) and change a cell; they never invent tables.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

log = logging.getLogger(__name__)

# Next to the interpreter running the tests, so the world is built by this checkout's installed CLI.
DTSCOPE = Path(sys.executable).with_name("dtscope")
WORLD_TIMEOUT_S = 900


def _dtscope(*args: str, home: Path) -> None:
    """Run ``dtscope ARGS --home HOME``; fail the test session with the command's output if it fails."""
    env = {k: v for k, v in os.environ.items() if k not in ("DTSCOPE_HOME", "MLFLOW_TRACKING_URI")}
    cmd = [str(DTSCOPE), *args, "--home", str(home)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=WORLD_TIMEOUT_S, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"`{' '.join(cmd)}` failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


@pytest.fixture(scope="session")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dtscope home after ``dtscope demo`` and ``dtscope run`` (two districts, the demo's seed).

    Returns:
        The home folder: ``warehouse.duckdb``, ``published_tables/`` and ``mlruns/`` (the MLflow store is
        kept inside it; ``MLFLOW_TRACKING_URI`` and ``DTSCOPE_HOME`` are removed from the commands' environment).
    """
    if not DTSCOPE.exists():
        pytest.fail(f"no dtscope command at {DTSCOPE}: run `make install` first")
    home = tmp_path_factory.mktemp("world") / "home"
    start = time.perf_counter()
    _dtscope("demo", home=home)
    _dtscope("run", home=home)
    log.info("published world built in %.1f s at %s", time.perf_counter() - start, home)
    return home


@pytest.fixture
def published_copy(published_home: Path, tmp_path: Path) -> Path:
    """A private copy of the world's published tables (``<tmp>/published_tables``) for a test to change a cell."""
    target = tmp_path / "published_tables"
    shutil.copytree(published_home / "published_tables", target)
    return target
