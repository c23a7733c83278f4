"""Fixtures for the dashboard tests: synthetic published tables, a live server and one headless Chromium.

The published tables are generated in code (2 regions, labelled synthetic-demo). Browser fixtures are
session-scoped: one server and one browser for every browser test.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dashboard.synthetic import make_published_tables, write_published_tables

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1400,1000", "--lang=zh-CN",
)  # fmt: skip


@pytest.fixture(scope="session")
def published_tables() -> dict[str, pl.DataFrame]:
    return make_published_tables(("pudong", "hongkou"), n_kpis=25, n_scenarios=40, n_draws=200, seed=7)


@pytest.fixture(scope="session")
def published_dir(
    published_tables: dict[str, pl.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    folder = tmp_path_factory.mktemp("published_tables")
    write_published_tables(published_tables, folder)
    return folder


def ingest_upload_handler(filename: str, content: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate an upload with the project's own ingest rules (tests may import the pipelines)."""
    from pipelines.io.catalog import read_table
    from pipelines.io.kpi_registry import load_registry
    from pipelines.steps.ingest import validate_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_bytes(content)
        raw = read_table(path)
    result = validate_table(raw, load_registry(), file_label=filename)
    return result.accepted, result.rejects


class ConfirmRecorder:
    """A confirm handler that records what it was asked to ingest."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, filename: str, content: bytes) -> str:
        self.calls.append((filename, len(content)))
        return f"{filename} ({len(content)} bytes)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def confirm_recorder() -> ConfirmRecorder:
    return ConfirmRecorder()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve a Dash app on 127.0.0.1:<free port> from a background thread; yields its base URL."""
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def dash_server(published_dir: Path, confirm_recorder: ConfirmRecorder) -> Iterator[str]:
    """The dashboard (upload limit 1 MB) served from a background thread; yields its base URL."""
    from dashboard.app import create_app

    app = create_app(
        published_dir,
        mlflow_ui_url="http://127.0.0.1:5000",
        upload_handler=ingest_upload_handler,
        confirm_handler=confirm_recorder,
        max_upload_mb=1,
    )
    with serving(app) as base:
        yield base


SMALL_UPLOAD_MB = 16 / 1024  # 16 KB


@pytest.fixture(scope="module")
def small_upload_server(published_dir: Path, confirm_recorder: ConfirmRecorder) -> Iterator[str]:
    """The dashboard with a 16 KB upload limit (so big-file tests need no big files); yields its base URL."""
    from dashboard.app import create_app

    app = create_app(
        published_dir,
        upload_handler=ingest_upload_handler,
        confirm_handler=confirm_recorder,
        max_upload_mb=SMALL_UPLOAD_MB,
    )
    with serving(app) as base:
        yield base


@pytest.fixture(scope="session")
def download_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "dashboard"


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """``test-output/dashboard/`` (git-ignored): one PNG per page from the last browser run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def start_chromium(download_dir: Path, profile: Path) -> Any:
    """A headless Debian Chromium through chromedriver; fails the test (never skips) when it cannot start."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"browser tests need Debian's chromium and chromium-driver; missing {missing}: run `make browser`"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(download_dir), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except Exception as exc:
        pytest.fail(
            f"headless Chromium did not start ({exc!r}); check `chromium --version` and `make browser`"
        )
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)}
    )
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="session")
def browser(download_dir: Path) -> Iterator[Any]:
    profile = Path(tempfile.mkdtemp(prefix="dtscope-chromium-"))
    driver = start_chromium(download_dir, profile)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
