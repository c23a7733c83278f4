"""The dashboard in a real headless Chromium: pages, controls, language, upload, download."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.bench.pages import PAGES
from dashboard.i18n import region_name
from dashboard.plotly_bundle import BUNDLE, TRACE_TYPES, bundle_version

pytestmark = pytest.mark.browser

def wait_for(driver: Any, css: str, timeout: float = 15) -> Any:
    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_text(driver: Any, css: str, text: str, timeout: float = 10) -> None:
    WebDriverWait(driver, timeout).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def severe(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def open_page(driver: Any, base: str, path: str, ready: str) -> None:
    driver.get(base + path)
    wait_for(driver, ready)


GRID_ROWS = "#kpi-grid-table .ag-center-cols-container .ag-row"
LEAGUE_ROWS = "#league-table .ag-center-cols-container .ag-row"


def grid_regions(driver: Any) -> set[str]:
    cells = driver.find_elements(By.CSS_SELECTOR, f"{GRID_ROWS} .ag-cell[col-id='region']")
    return {c.text for c in cells}


def test_every_page_loads_without_console_errors(
    dash_server: str, browser: Any, screenshot_dir: Path
) -> None:
    browser.get_log("browser")  # drop anything logged before this test
    for name, (path, ready, _) in PAGES.items():
        open_page(browser, dash_server, path, ready)
        shot = screenshot_dir / f"{name}.png"
        assert browser.save_screenshot(str(shot)), f"could not save {shot}"
        assert shot.stat().st_size > 10_000
        errors = severe(browser)
        assert not errors, f"console errors on {path}: {errors}"
        # The fixture is synthetic, so every page that shows its rows carries the banner.
        if name not in ("models", "data"):  # these show runs and ingests, which carry no data source
            assert browser.find_elements(By.ID, "synthetic-banner"), f"no SYNTHETIC DATA banner on {path}"


def test_overview_region_and_filters_change_the_grid(
    dash_server: str, browser: Any, published_tables: dict[str, pl.DataFrame]
) -> None:
    open_page(browser, dash_server, "/", GRID_ROWS)
    regions = {region_name(r, "zh") for r in published_tables["kpis"]["region"].unique()}
    assert grid_regions(browser) == regions and {"浦东新区", "虹口区"} <= regions
    open_page(browser, dash_server, "/?region=hongkou", GRID_ROWS)
    assert grid_regions(browser) == {"虹口区"}
    n_before = len(browser.find_elements(By.CSS_SELECTOR, GRID_ROWS))
    box = browser.find_element(By.ID, "overview-search")
    box.send_keys("5G", Keys.ENTER)
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, GRID_ROWS)) < n_before
    )
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#kpi-grid-table .kpi-link")]
    assert names and all("5G" in n for n in names)
    # The filter state is in the URL, so the view can be shared.
    WebDriverWait(browser, 5).until(lambda d: "q=5G" in d.current_url)
    assert "region=hongkou" in browser.current_url
    # The region dropdown: open it and pick Pudong.
    browser.find_element(By.CSS_SELECTOR, "#overview-region").click()
    option = "//*[@role='listbox']//*[@role='option'][normalize-space()='浦东新区']"
    WebDriverWait(browser, 5).until(ec.element_to_be_clickable((By.XPATH, option))).click()
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: grid_regions(d) == {"浦东新区"}
    )
    assert severe(browser) == []


def test_language_toggle_switches_labels(dash_server: str, browser: Any) -> None:
    open_page(browser, dash_server, "/scenarios", "#league-table")
    assert browser.find_element(By.ID, "nav-scenarios").text == "应用场景"
    browser.find_element(By.XPATH, "//label[normalize-space()='English']").click()
    wait_text(browser, "#nav-scenarios", "Scenarios")
    wait_text(browser, ".page-title", "Scenario league table")
    headers = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#league-table .ag-header-cell-text")]
    assert "Grade" in headers
    browser.find_element(By.XPATH, "//label[normalize-space()='中文']").click()
    wait_text(browser, "#nav-scenarios", "应用场景")
    assert severe(browser) == []


def test_chart_pages_load_the_cartesian_plotly_bundle_with_the_zh_locale(
    dash_server: str, browser: Any
) -> None:
    open_page(browser, dash_server, "/kpi/online_handling_share?region=pudong", "#kpi-fan .main-svg")
    if browser.find_element(By.ID, "nav-scenarios").text != "应用场景":  # the toggle persists per session
        browser.find_element(By.XPATH, "//label[normalize-space()='中文']").click()
        wait_text(browser, "#nav-scenarios", "应用场景")
        wait_for(browser, "#kpi-fan .main-svg")
    info = browser.execute_script(
        """
        return {version: window.Plotly.version,
                traces: Object.keys(window.Plotly.PlotSchema.get().traces),
                scripts: performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('plotly')),
                titles: Array.from(document.querySelectorAll('#kpi-fan .modebar-btn'))
                    .map(b => b.getAttribute('data-title'))};
        """
    )
    assert info["version"] == bundle_version()
    assert set(info["traces"]) == TRACE_TYPES
    assert [s.rsplit("/", 1)[-1] for s in info["scripts"]] == [BUNDLE], info[
        "scripts"
    ]  # never the full bundle
    # plotly's own interface strings come from the inline zh-CN locale.
    assert "下载为 PNG 图片" in info["titles"], info["titles"]
    assert "Download plot as a png" not in info["titles"]
    assert severe(browser) == []


def test_scenario_radar_is_drawn_without_polar_traces(dash_server: str, browser: Any) -> None:
    open_page(browser, dash_server, "/scenarios/HK-IOT-01", "#scen-radar .main-svg")
    # Rings, spokes, ring numbers, axis labels and the filled score polygon.
    assert len(browser.find_elements(By.CSS_SELECTOR, "#scen-radar .scatterlayer .trace")) == 5
    assert browser.find_elements(By.CSS_SELECTOR, "#scen-radar .scatterlayer .trace path.js-fill")
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#scen-radar .scatterlayer .textpoint")]
    assert any(label and not label.isdigit() for label in labels), labels
    assert severe(browser) == []


def test_scenario_filters_follow_into_the_url(dash_server: str, browser: Any) -> None:
    open_page(browser, dash_server, "/scenarios?district=pudong", LEAGUE_ROWS)
    assert query(browser.current_url) == {"district": ["pudong"]}
    browser.find_element(By.CSS_SELECTOR, "#scen-filter-domain").click()
    option = "//*[@role='listbox']//*[@role='option'][normalize-space()='经济']"
    WebDriverWait(browser, 5).until(ec.element_to_be_clickable((By.XPATH, option))).click()
    # every filter goes into the query, the district one under its URL name
    WebDriverWait(browser, 10).until(lambda d: "domain" in query(d.current_url))
    assert query(browser.current_url) == {"domain": ["economy"], "district": ["pudong"]}
    assert severe(browser) == []


def test_scenario_filters_and_drill_down(
    dash_server: str, browser: Any, published_tables: dict[str, pl.DataFrame]
) -> None:
    open_page(browser, dash_server, "/scenarios?domain=economy", LEAGUE_ROWS)
    expected = published_tables["scenarios"].filter(pl.col("domain") == "economy").height
    rows = browser.find_elements(By.CSS_SELECTOR, LEAGUE_ROWS)
    assert len(rows) == expected
    link = rows[0].find_element(By.CSS_SELECTOR, ".scenario-link")
    href = link.get_attribute("href")
    browser.execute_script("window.__same_document = true;")  # gone if the link reloads the page
    link.click()
    wait_for(browser, "#scen-radar .main-svg")
    assert browser.current_url == href and "/scenarios/" in href
    assert browser.execute_script("return window.__same_document === true;"), (
        "the in-app link reloaded the page"
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#scenario-flags li")


def test_whatif_recomputes_probability(dash_server: str, browser: Any) -> None:
    open_page(browser, dash_server, "/kpi/online_handling_share?region=pudong", "#whatif-result")
    before = browser.find_element(By.ID, "whatif-result").text
    handle = wait_for(browser, "#whatif-growth [role='slider']")
    handle.click()
    for _ in range(6):
        handle.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "whatif-result").text != before)
    assert "+" in browser.find_element(By.ID, "whatif-result").text
    WebDriverWait(browser, 5).until(lambda d: "g=" in d.current_url)


def _p_reach_in(text: str) -> tuple[int, int]:
    """(p, p0) in percent from the Chinese what-if sentence '…达标概率：57%（原为 56%）'."""
    found = re.search(r"达标概率：(\d+)%（原为 (\d+)%）", text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


def test_whatif_added_scenarios_lever_moves_the_probability(dash_server: str, browser: Any) -> None:
    open_page(browser, dash_server, "/kpi/efficient_disposal_scenarios?region=pudong", "#whatif-result")
    if browser.find_element(By.ID, "nav-scenarios").text != "应用场景":
        browser.find_element(By.XPATH, "//label[normalize-space()='中文']").click()
        wait_text(browser, "#nav-scenarios", "应用场景")
    before = browser.find_element(By.ID, "whatif-result").text
    p_before, p0 = _p_reach_in(before)
    assert browser.find_element(By.ID, "kpi-p-reach").text.endswith(f"{p0}%")  # "was" = the published stat
    assert not browser.find_elements(By.ID, "whatif-added-na")
    handle = wait_for(browser, "#whatif-added [role='slider']")
    handle.click()
    for _ in range(5):
        handle.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(browser, 10).until(lambda d: "个场景" in d.find_element(By.ID, "whatif-result").text)
    WebDriverWait(browser, 5).until(lambda d: "n" in query(d.current_url))
    after = browser.find_element(By.ID, "whatif-result").text
    p_after, p0_after = _p_reach_in(after)
    assert p_after > p_before, (before, after)
    assert p0_after == p0
    n = int(re.search(r"每年新增 (\d+) 个场景", after).group(1))  # type: ignore[union-attr]
    assert n >= 1 and query(browser.current_url)["n"] == [str(n)]
    assert severe(browser) == []


def test_whatif_added_scenarios_lever_is_disabled_for_a_share(dash_server: str, browser: Any) -> None:
    open_page(browser, dash_server, "/kpi/online_handling_share?region=pudong", "#whatif-result")
    note = wait_for(browser, "#whatif-added-na")
    assert note.text in (
        "不适用：本指标不是以“个”计的累计场景数",
        "not available: this KPI is not a running count of scenarios",
    )
    before = browser.find_element(By.ID, "whatif-result").text
    assert (
        browser.find_element(By.CSS_SELECTOR, "#whatif-added .dash-slider-root").get_attribute(
            "aria-disabled"
        )
        == "true"
    )
    assert not browser.find_element(By.CSS_SELECTOR, "#whatif-added input[type=number]").is_enabled()
    # Clicking the far end of the disabled track changes nothing.
    track = browser.find_element(By.CSS_SELECTOR, "#whatif-added .dash-slider-track")
    ActionChains(browser).move_to_element_with_offset(
        track, track.size["width"] // 2 - 2, 0
    ).click().perform()
    time.sleep(0.5)  # a disabled slider sends nothing; give a callback the time it would need
    assert browser.find_element(By.ID, "whatif-result").text == before
    assert "n" not in query(browser.current_url)


def test_upload_rejects_a_bad_file_with_reasons(dash_server: str, browser: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad_upload.csv"
    bad.write_text(
        "kpi_id,region,period,value\n5g_coverage,pudong,2022,104\nno_such_kpi,pudong,2022,5\n",
        encoding="utf-8",
    )
    open_page(browser, dash_server, "/data", "#upload")
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(bad))
    wait_for(browser, "#upload-summary")
    reasons = [
        e.text
        for e in browser.find_elements(By.CSS_SELECTOR, "#upload-rejects .ag-center-cols-container .ag-row")
    ]
    assert len(reasons) == 2, reasons
    assert any("no_such_kpi" in r for r in reasons)
    assert browser.find_element(By.ID, "upload-confirm").get_attribute("disabled") is not None
    # A file of the wrong type gets a clear message, not a crash.
    other = tmp_path / "notes.pdf"
    other.write_bytes(b"%PDF-1.4")
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(other))
    wait_text(browser, "#upload-error", "notes.pdf")


@pytest.mark.parametrize(
    "size",
    [
        20_000,  # between the 16 KB limit and twice it: used to reach the server and be refused there
        1_500_000,  # far over twice the limit: used to hit the server's request cap and show nothing
    ],
)
def test_upload_over_the_limit_names_the_file_and_the_limit(
    small_upload_server: str, browser: Any, tmp_path: Path, confirm_recorder: Any, size: int
) -> None:
    good = tmp_path / "small_ok.csv"
    good.write_text("kpi_id,region,period,value\n5g_coverage,pudong,2022,97.5\n", encoding="utf-8")
    big = tmp_path / f"too_big_{size}.csv"
    row = "5g_coverage,pudong,2022,97.5\n"
    big.write_text("kpi_id,region,period,value\n" + row * (size // len(row) + 1), encoding="utf-8")
    assert big.stat().st_size > size
    open_page(browser, small_upload_server, "/data", "#upload")
    if browser.find_element(By.ID, "nav-scenarios").text != "应用场景":
        browser.find_element(By.XPATH, "//label[normalize-space()='中文']").click()
        wait_text(browser, "#nav-scenarios", "应用场景")
    assert "不超过 16 KB" in browser.find_element(By.ID, "upload").text
    # A valid file first, so the refusal must also withdraw it from the confirm button.
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(good))
    wait_for(browser, "#upload-accepted")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "upload-confirm").is_enabled())
    calls = len(confirm_recorder.calls)
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(big))
    wait_text(browser, "#upload-error", big.name)
    message = browser.find_element(By.ID, "upload-error").text
    assert "16 KB" in message and "超过" in message, message
    assert not browser.find_element(By.ID, "upload-confirm").is_enabled()
    assert not browser.find_elements(By.ID, "upload-accepted")
    assert len(confirm_recorder.calls) == calls
    assert severe(browser) == []


def test_upload_good_file_then_confirm(
    dash_server: str, browser: Any, tmp_path: Path, confirm_recorder: Any
) -> None:
    good = tmp_path / "good_upload.csv"
    good.write_text("kpi_id,region,period,value\n5g_coverage,pudong,2022,97.5\n", encoding="utf-8")
    open_page(browser, dash_server, "/data", "#upload")
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(good))
    wait_for(browser, "#upload-accepted")
    button = browser.find_element(By.ID, "upload-confirm")
    WebDriverWait(browser, 5).until(lambda d: button.get_attribute("disabled") is None)
    button.click()
    wait_for(browser, "#upload-done")
    assert confirm_recorder.calls[-1][0] == "good_upload.csv"


def test_download_returns_a_file(dash_server: str, browser: Any, download_dir: Path) -> None:
    open_page(browser, dash_server, "/?region=pudong", GRID_ROWS)
    browser.find_element(By.CSS_SELECTOR, "#overview-export .download-csv").click()
    target = download_dir / "dtscope_kpi_grid_pudong.csv"
    deadline = time.monotonic() + 10
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.exists(), f"no download in {download_dir}: {list(download_dir.iterdir())}"
    frame = pl.read_csv(target.read_bytes()[3:])
    assert set(frame["region"].to_list()) == {"pudong"}
    assert {"kpi_id", "p_reach", "status"} <= set(frame.columns)
    browser.find_element(By.CSS_SELECTOR, "#overview-export .download-brief").click()
    brief = download_dir / "dtscope_brief_pudong.html"
    deadline = time.monotonic() + 10
    while not brief.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert brief.exists()
    text = brief.read_text(encoding="utf-8")
    assert "<svg" in text and "SYNTHETIC DATA" in text


HOSTILE = "<img src=x onerror=alert(1)>"


def test_a_hostile_stored_name_is_text_on_every_page(
    dash_server: str, browser: Any, published_copy: Path, pointed_at: Any
) -> None:
    # One scenario's and one KPI's names, in a copy of the published world, look like an HTML attack.
    for table, key in (("scenarios", pl.col("scenario_id") == "HK-IOT-01"),
                       ("kpis", (pl.col("kpi_id") == "online_handling_share") & (pl.col("region") == "pudong"))):  # fmt: skip
        path = published_copy / f"{table}.parquet"
        pl.read_parquet(path).with_columns(
            pl.when(key).then(pl.lit(HOSTILE)).otherwise(pl.col(c)).alias(c) for c in ("name_zh", "name_en")
        ).write_parquet(path)
    pointed_at(published_copy)
    for path, ready in (("/?region=pudong", GRID_ROWS), ("/kpi/online_handling_share?region=pudong", "#kpi-title"),
                        ("/scenarios", LEAGUE_ROWS), ("/scenarios/HK-IOT-01", "#scenario-title")):  # fmt: skip
        open_page(browser, dash_server, path, ready)
        WebDriverWait(browser, 10).until(lambda d: HOSTILE in d.find_element(By.TAG_NAME, "body").text)
        assert not browser.find_elements(By.CSS_SELECTOR, "img[src='x']"), path
        assert browser.execute_script("return typeof window.__alerted === 'undefined';")
    assert severe(browser) == [] or all("alert" not in e["message"] for e in severe(browser))
