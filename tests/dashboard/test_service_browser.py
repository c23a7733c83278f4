"""The dashboard behind a real ``dtscope serve`` in headless Chromium: login (zh/en), who sees what, logout,
and a hostile stored name shown as text on every page and in the brief.

The server runs in a subprocess on a private copy of the published world (its own ``service.db``), with
one Hongkou scenario and one Pudong KPI renamed to an HTML attack in the copy's published tables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.serving import add_accounts, served

pytestmark = pytest.mark.browser

DTSCOPE = Path(sys.executable).with_name("dtscope")
HOSTILE = "<img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery staple"
GRID_ROWS = "#kpi-grid-table .ag-center-cols-container .ag-row"
LEAGUE_ROWS = "#league-table .ag-center-cols-container .ag-row"
HOSTILE_KPI = ("online_handling_share", "pudong")


def _service_cli() -> list[str]:
    """``dtscope`` when it carries the service commands, else ``python -m service`` (the same Typer app)."""
    done = subprocess.run([str(DTSCOPE), "users", "--help"], capture_output=True, check=False)
    return [str(DTSCOPE)] if done.returncode == 0 else [sys.executable, "-m", "service"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DTSCOPE_HOME", "MLFLOW_TRACKING_URI", "DTSCOPE_DATABASE_URL")}


ACCOUNTS = {
    "hk_evaluator": ("evaluator", "hongkou", None),
    "pd_leader": ("leader", "pudong", None),
    "hk_owner": ("owner", "hongkou", "区卫生健康委"),
    "the_admin": ("admin", "*", None),
}


@pytest.fixture(scope="session")
def hostile_scenario(published_home: Path) -> str:
    scenarios = pl.read_parquet(published_home / "published_tables" / "scenarios.parquet")
    return str(scenarios.filter(pl.col("region") == "hongkou")["scenario_id"][0])


@pytest.fixture(scope="session")
def service(published_home: Path, tmp_path_factory: pytest.TempPathFactory, hostile_scenario: str) -> Iterator[str]:
    """``dtscope serve`` on a copy of the published world with four accounts; yields its base URL."""
    home = tmp_path_factory.mktemp("served") / "home"
    shutil.copytree(published_home, home, symlinks=True)
    published = home / "published_tables"
    for table, key in (("scenarios", pl.col("scenario_id") == hostile_scenario),
                       ("kpis", (pl.col("kpi_id") == HOSTILE_KPI[0]) & (pl.col("region") == HOSTILE_KPI[1]))):  # fmt: skip
        path = published / f"{table}.parquet"
        pl.read_parquet(path).with_columns(
            pl.when(key).then(pl.lit(HOSTILE)).otherwise(pl.col(c)).alias(c) for c in ("name_zh", "name_en")
        ).write_parquet(path)
    cli = _service_cli()
    add_accounts(cli, home, ACCOUNTS, PASSWORD, env=_env())
    with served(cli, home, env=_env()) as base:
        yield base


def wait_for(driver: Any, css: str, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def no_alert(driver: Any) -> None:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    pytest.fail(f"a JavaScript alert fired: {text!r}")


def login(driver: Any, base: str, name: str, path: str = "/", lang: str = "en") -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login?lang={lang}&next={path}")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/login" not in d.current_url)


def texts(driver: Any, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def test_login_page_in_both_languages_and_a_login_lands_on_the_page_asked_for(service: str, browser: Any) -> None:
    browser.delete_all_cookies()
    browser.get(service + "/scenarios")
    WebDriverWait(browser, 10).until(lambda d: "/login" in d.current_url)
    assert "next=/scenarios" in browser.current_url
    assert browser.find_elements(By.ID, "password")
    browser.get(service + "/login?lang=zh")
    assert browser.find_element(By.TAG_NAME, "h1").text == "dtscope 登录"
    browser.get(service + "/login?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sign in to dtscope"
    browser.find_element(By.ID, "name").send_keys("hk_evaluator")
    browser.find_element(By.ID, "password").send_keys("wrong password, long enough")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "Wrong account or password" in wait_for(browser, ".message").text  # the POST checks an argon2 hash: slow under load
    login(browser, service, "hk_evaluator", "/scenarios")
    assert browser.current_url.endswith("/scenarios")
    wait_for(browser, LEAGUE_ROWS)
    assert "hk_evaluator" in browser.find_element(By.ID, "signed-in").text
    no_alert(browser)


def test_a_hongkou_evaluator_sees_no_pudong_row(service: str, browser: Any, published_home: Path) -> None:
    login(browser, service, "hk_evaluator")
    wait_for(browser, GRID_ROWS)
    regions = set(texts(browser, f"{GRID_ROWS} .ag-cell[col-id='region']"))
    assert regions == {"虹口区"}, regions
    # a shared link to Pudong shows nothing of Pudong either
    browser.get(service + "/?region=pudong")
    wait_for(browser, GRID_ROWS)
    assert set(texts(browser, f"{GRID_ROWS} .ag-cell[col-id='region']")) == {"虹口区"}
    browser.get(service + "/scenarios")
    wait_for(browser, LEAGUE_ROWS)
    scenarios = pl.read_parquet(published_home / "published_tables" / "scenarios.parquet")
    pudong_names = set(scenarios.filter(pl.col("region") == "pudong")["name_zh"].to_list())
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "浦东" not in body and not [n for n in pudong_names if n in body]
    assert set(texts(browser, f"{LEAGUE_ROWS} .ag-cell[col-id='region']")) == {"虹口区"}
    pd_scenario = scenarios.filter(pl.col("region") == "pudong")["scenario_id"][0]
    browser.get(f"{service}/scenarios/{pd_scenario}")
    wait_for(browser, ".page-scenario, .alert")
    assert not [n for n in pudong_names if n in browser.find_element(By.TAG_NAME, "body").text]


def test_a_leader_cannot_see_the_upload_control_and_an_owner_can(service: str, browser: Any) -> None:
    login(browser, service, "pd_leader", "/data")
    wait_for(browser, "#upload-off")
    assert not browser.find_elements(By.ID, "upload")
    assert not browser.find_elements(By.CSS_SELECTOR, "input[type=file]")
    login(browser, service, "hk_owner", "/data")
    wait_for(browser, "#upload")
    assert browser.find_elements(By.CSS_SELECTOR, "#upload input[type=file]")


def test_logout_ends_the_session(service: str, browser: Any) -> None:
    login(browser, service, "hk_evaluator")
    wait_for(browser, GRID_ROWS)
    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, 10).until(lambda d: "/login" in d.current_url)
    for path in ("/", "/scenarios", "/kpi/online_handling_share?region=hongkou"):
        browser.get(service + path)
        WebDriverWait(browser, 10).until(lambda d: "/login" in d.current_url)
        assert browser.find_elements(By.ID, "password"), path


def test_a_hostile_stored_name_is_text_on_every_page_and_in_the_brief(
    service: str, browser: Any, hostile_scenario: str, download_dir: Path
) -> None:
    login(browser, service, "the_admin")
    pages = (("/?region=pudong", GRID_ROWS), (f"/kpi/{HOSTILE_KPI[0]}?region={HOSTILE_KPI[1]}", "#kpi-title"),
             ("/scenarios", LEAGUE_ROWS), (f"/scenarios/{hostile_scenario}", "#scenario-title"))  # fmt: skip
    for path, ready in pages:
        browser.get(service + path)
        wait_for(browser, ready)
        WebDriverWait(browser, 15).until(lambda d: HOSTILE in d.find_element(By.TAG_NAME, "body").text)
        time.sleep(0.3)  # an injected <img> would have failed to load and fired by now
        no_alert(browser)
        assert not browser.find_elements(By.CSS_SELECTOR, "img[src='x']"), path
    for path, ready in (("/models", "#calibration-graph"), ("/data", "#rejects-table")):
        browser.get(service + path)
        wait_for(browser, ready)
        no_alert(browser)
    # the brief, downloaded through the page, holds the name as escaped text and runs nothing when opened
    brief = download_dir / "dtscope_brief_pudong.html"
    brief.unlink(missing_ok=True)
    browser.get(service + "/?region=pudong")
    wait_for(browser, GRID_ROWS)
    browser.find_element(By.CSS_SELECTOR, "#overview-export .download-brief").click()
    deadline = time.monotonic() + 15
    while not brief.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert brief.exists(), list(download_dir.iterdir())
    text = brief.read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "<img" not in text
    browser.get(brief.as_uri())
    assert HOSTILE in browser.find_element(By.TAG_NAME, "body").text
    no_alert(browser)
    assert not browser.find_elements(By.TAG_NAME, "img")
