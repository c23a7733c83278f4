"""Fixtures for the dashboard tests: the published world, the process's one app, a live server, one Chromium.

The tables are the ones a real ``dtscope demo`` + ``dtscope run`` published (``published_home`` in
``tests/conftest.py``). Dash allows one app per process (pages and ``@callback`` live in module globals), so
one session app serves every test; a test that needs other tables copies the published set, changes a cell
and points the app at the copy for its duration (``pointed_at``). Browser fixtures are session-scoped.
"""

from __future__ import annotations

import importlib
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1400,1000", "--lang=zh-CN",
)  # fmt: skip


@pytest.fixture(scope="session")
def published_dir(published_home: Path) -> Path:
    return published_home / "published_tables"


@pytest.fixture(scope="session")
def published_tables(published_dir: Path) -> dict[str, pl.DataFrame]:
    """Every published table as the pipeline wrote it (not conformed)."""
    return {p.stem: pl.read_parquet(p) for p in sorted(published_dir.glob("*.parquet"))}


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


MLFLOW_UI = "http://127.0.0.1:5000"
SHARE = ("online_handling_share", "pudong")  # a share with a target year ahead (2025, last observed 2024)
SCENARIO = "HK-IOT-01"  # a scenario with an efficacy series


@pytest.fixture(scope="session")
def world_settings(confirm_recorder: ConfirmRecorder) -> dict[str, Any]:
    """The session app's settings (:class:`dashboard.app.AppSettings`): MLflow link, upload handlers, 1 MB limit."""
    return {
        "mlflow_ui_url": MLFLOW_UI,
        "upload_handler": ingest_upload_handler,
        "confirm_handler": confirm_recorder,
        "max_upload_mb": 1,
    }


@pytest.fixture(scope="session")
def dash_app(published_dir: Path, world_settings: dict[str, Any]) -> Any:
    """The process's one dashboard app on the published world (re-pointed when a service test built it first:
    ``tests/service/test_authorization_matrix.py`` serves it)."""
    from dashboard.app import app_for

    return app_for(published_dir, **world_settings)


@pytest.fixture(scope="session")
def pages(dash_app: Any) -> SimpleNamespace:
    """The page modules, as Dash imported them from ``pages_folder`` when it built the app."""
    return SimpleNamespace(
        **{name: importlib.import_module(f"dashboard.pages.{name}")
           for name in ("overview", "kpi", "scenarios", "scenario", "models", "data")}
    )  # fmt: skip


@pytest.fixture(scope="session")
def page_layouts(pages: SimpleNamespace) -> dict[str, tuple[Callable[..., Any], dict[str, str]]]:
    """Each page's ``layout`` and the URL arguments that show :data:`SHARE` (the overview filtered to its
    district, the KPI page) and :data:`SCENARIO` (the league table, the scenario page)."""
    return {
        "overview": (pages.overview.layout, {"region": SHARE[1]}),
        "kpi": (pages.kpi.layout, {"kpi_id": SHARE[0], "region": SHARE[1]}),
        "scenarios": (pages.scenarios.layout, {}),
        "scenario": (pages.scenario.layout, {"scenario_id": SCENARIO}),
        "models": (pages.models.layout, {}),
        "data": (pages.data.layout, {}),
    }


def layout_json(component: Any) -> str:
    """A rendered layout as the JSON Dash sends to the browser (text kept as typed: no ASCII escapes)."""
    import plotly.utils

    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


@pytest.fixture
def layouts_on(
    dash_app: Any, page_layouts: dict[str, tuple[Callable[..., Any], dict[str, str]]], pointed_at: Callable[..., None]
) -> Callable[..., dict[str, Any]]:
    """``(folder, lang, names=all pages) -> {page: its layout}``: the app pointed at the tables in ``folder`` for
    the test, each named page of :func:`page_layouts` rendered in ``lang`` (inside a request, as Dash does)."""

    def render(folder: Path, lang: str, names: Iterable[str] | None = None) -> dict[str, Any]:
        pointed_at(folder)
        shown = {}
        for name in names or page_layouts:
            fn, kwargs = page_layouts[name]
            with dash_app.server.test_request_context("/"):
                shown[name] = fn(lang=lang, **kwargs)
        return shown

    return render


@pytest.fixture
def pointed_at(
    dash_app: Any, published_dir: Path, world_settings: dict[str, Any]
) -> Iterator[Callable[..., None]]:
    """Point the app at other tables or upload settings for one test; the world's settings come back after."""
    from dashboard.app import configure

    yield lambda folder, **kwargs: configure(dash_app, folder, **kwargs)
    configure(dash_app, published_dir, **world_settings)


@pytest.fixture(scope="session")
def dash_server(dash_app: Any) -> Iterator[str]:
    """The dashboard served from a background thread; yields its base URL."""
    with serving(dash_app) as base:
        yield base


SMALL_UPLOAD_MB = 16 / 1024  # 16 KB


@pytest.fixture
def small_upload_server(
    dash_server: str, pointed_at: Callable[..., None], published_dir: Path, world_settings: dict[str, Any]
) -> str:
    """The served dashboard with a 16 KB upload limit for one test (so big-file tests need no big files)."""
    pointed_at(published_dir, **{**world_settings, "max_upload_mb": SMALL_UPLOAD_MB})
    return dash_server


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
