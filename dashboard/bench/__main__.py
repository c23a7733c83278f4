"""Measure the dashboard in a real headless Chromium on what ``dtscope run`` publishes for all 16 districts.

Run ``python -m dashboard.bench`` (``make bench`` can call it). It runs ``dtscope demo --scale all`` and
``dtscope run`` into a temporary home (or uses ``--home`` if given one that already holds a run), serves
the app from a background thread on 127.0.0.1, then measures:

* time to first render of each page: wall time from ``driver.get`` until the page's main element is in
  the DOM and Dash reports no callback in flight (median and p95 over fresh loads);
* callback latency: the duration of each ``/_dash-update-component`` request the browser makes for an
  interaction (resource timing: request start to response end), and the wall time from the key press
  to the changed text in the page, median and p95.

It writes ``dashboard/bench/dashboard.md`` with what it measured and prints the same table.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dashboard.app import create_app
from dashboard.bench.pages import PAGES, Page

OUT = Path(__file__).resolve().parent / "dashboard.md"
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1400,1000",
)  # fmt: skip
GRID_ROWS = "#kpi-grid-table .ag-center-cols-container .ag-row"
IDLE_JS = "return !document.querySelector('[data-dash-is-loading=\"true\"]') && !document.querySelector('._dash-loading');"
CALLBACK_JS = """
return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component'))
  .map(e => e.responseEnd - e.requestStart);
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


def _browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _wait(driver: Any, predicate: Callable[[Any], Any], timeout: float = 30.0) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(
        driver, timeout, poll_frequency=0.01, ignored_exceptions=(StaleElementReferenceException,)
    ).until(predicate)


def _ready(driver: Any, css: str, *, idle: bool = True) -> None:
    """Wait until ``css`` is in the page and (``idle``) Dash has no callback in flight."""
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, css) and (not idle or d.execute_script(IDLE_JS)))


def measure_pages(driver: Any, base: str, loads: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, page in PAGES.items():
        driver.get(base + page.path)  # warm-up: browser cache of the JS bundles, server-side table cache
        _ready(driver, page.ready, idle=False)
        times = []
        for _ in range(loads):
            driver.get("about:blank")
            start = time.perf_counter()
            driver.get(base + page.path)
            _ready(driver, page.ready)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name}: {[round(x) for x in times]}", file=sys.stderr)
        out[_label(name, page)] = times
    return out


def _label(name: str, page: Page) -> str:
    return f"{name} `{page.route}`"


def _callback_durations(driver: Any) -> list[float]:
    return [float(x) for x in driver.execute_script(CALLBACK_JS)]


def _interactions(
    driver: Any,
    repeats: int,
    seen: Callable[[Any], Any],
    act: Callable[[int], None],
    prepare: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """Time ``repeats`` interactions: the i-th runs ``prepare(i)`` (not timed), then ``act(i)``, timed until what
    ``seen(driver)`` reads has changed.

    Returns:
        ``request``: the duration (ms) of each ``/_dash-update-component`` request made meanwhile (the browser's
        resource timing); ``wall``: each interaction's time (ms) from ``act`` to the change, seen from Selenium.
    """
    driver.execute_script("performance.clearResourceTimings();")
    walls = []
    for i in range(repeats):
        before = seen(driver)
        if prepare is not None:
            prepare(i)
        start = time.perf_counter()
        act(i)
        _wait(driver, _changed(seen, before))
        walls.append((time.perf_counter() - start) * 1000)
    return {"request": _callback_durations(driver), "wall": walls}


def _changed(seen: Callable[[Any], Any], before: Any) -> Callable[[Any], bool]:
    return lambda d: bool(seen(d) != before)


def _open_option(driver: Any, dropdown: str, option: str) -> None:
    """Open the dropdown at CSS ``dropdown`` and wait for its option at XPath ``option``."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, dropdown).click()
    _wait(driver, lambda d: d.find_elements(By.XPATH, option))


def measure_callbacks(driver: Any, base: str, repeats: int) -> dict[str, dict[str, list[float]]]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def text_of(element_id: str) -> Callable[[Any], str]:
        return lambda d: d.find_element(By.ID, element_id).text

    def grid_rows(d: Any) -> int:
        return len(d.find_elements(By.CSS_SELECTOR, GRID_ROWS))

    def click_option(option: str) -> None:
        driver.execute_script("arguments[0].click();", driver.find_element(By.XPATH, option))

    results: dict[str, dict[str, list[float]]] = {}

    # What-if slider on the KPI page: each arrow key = one callback recomputing P(reach) from 1,000 draws.
    driver.get(base + PAGES["kpi"].path)
    _ready(driver, "#whatif-growth [role='slider']")
    handle = driver.find_element(By.CSS_SELECTOR, "#whatif-growth [role='slider']")
    handle.click()
    _wait(driver, lambda d: d.execute_script(IDLE_JS))
    results["KPI what-if slider"] = _interactions(
        driver, repeats, text_of("whatif-result"),
        lambda i: handle.send_keys(Keys.ARROW_RIGHT if i % 2 == 0 else Keys.ARROW_LEFT),
    )  # fmt: skip
    print(f"what-if: {results['KPI what-if slider']}", file=sys.stderr)

    # Overview search box: filter the all-districts grid (400 rows) and clear it again.
    driver.get(base + PAGES["overview"].path)
    _ready(driver, PAGES["overview"].ready)
    box = driver.find_element(By.ID, "overview-search")

    def search_or_clear(i: int) -> None:
        box.send_keys(*(("5G", Keys.ENTER) if i % 2 == 0 else (Keys.BACKSPACE, Keys.BACKSPACE, Keys.ENTER)))

    results["overview grid filter"] = _interactions(driver, repeats, grid_rows, search_or_clear)

    # Overview region dropdown: Pudong ↔ all districts.
    def region_option(i: int) -> str:
        label = "浦东新区" if i % 2 == 0 else "全部区"
        return f"//*[@role='listbox']//*[@role='option'][normalize-space()='{label}']"

    results["overview region selector"] = _interactions(
        driver, repeats, grid_rows,
        prepare=lambda i: _open_option(driver, "#overview-region", region_option(i)),
        act=lambda i: click_option(region_option(i)),
    )  # fmt: skip

    # Scenarios: toggle the domain filter (league table of 160 + sensitivity heatmap redraw).
    driver.get(base + PAGES["scenarios"].path)
    _ready(driver, "#league-table .ag-row")
    first_domain = "//*[@role='listbox']//*[@role='option'][1]"

    def reopen_domains(_: int) -> None:
        driver.find_element(By.TAG_NAME, "h2").click()  # close the menu the last pick left open
        _open_option(driver, "#scen-filter-domain", first_domain)

    results["scenarios domain filter"] = _interactions(
        driver, repeats, text_of("scen-count"), prepare=reopen_domains, act=lambda _: click_option(first_domain)
    )
    return results


def _build_home(home: Path, scale: str) -> Path:
    """Run ``dtscope demo`` and ``dtscope run`` into ``home`` (MLflow store inside it); returns ``home``."""
    import subprocess

    dtscope = Path(sys.executable).with_name("dtscope")
    env = {k: v for k, v in os.environ.items() if k not in ("DTSCOPE_HOME", "MLFLOW_TRACKING_URI")}
    for args in (["demo", "--scale", scale], ["run"]):
        subprocess.run([str(dtscope), *args, "--home", str(home)], env=env, check=True, capture_output=True)
    return home


def _row(name: str, values: list[float]) -> str:
    return f"| {name} | {len(values)} | {statistics.median(values):.0f} | {_p95(values):.0f} | {max(values):.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5, help="fresh loads per page")
    parser.add_argument("--repeats", type=int, default=20, help="interactions per callback")
    parser.add_argument(
        "--home", type=Path, help="a dtscope home that already holds a run (default: build one)"
    )
    parser.add_argument(
        "--scale", choices=("two", "all"), default="all", help="demo scale when building a home"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="dtscope-dash-bench-"))
    t0 = time.perf_counter()
    home = args.home or _build_home(work / "home", args.scale)
    build_s = time.perf_counter() - t0
    published = home / "published_tables"
    sizes = {
        p.stem: pl.scan_parquet(p).select(pl.len()).collect().item() for p in published.glob("*.parquet")
    }

    from werkzeug.serving import make_server

    app = create_app(published)
    port = _free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    driver = _browser(work / "profile")
    try:
        pages = measure_pages(driver, base, args.loads)
        callbacks = measure_callbacks(driver, base, args.repeats)
        chrome = driver.capabilities.get("browserVersion", "?")
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        "# Dashboard benchmark",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m dashboard.bench` in headless Chromium {chrome} "
        f"(Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs shared with other work; "
        f"load average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; server and browser "
        "on the same machine).",
        "",
        f"Fixture: the tables `dtscope demo --scale {args.scale}` + `dtscope run` published — {sizes['kpis']} KPI rows, "
        f"{sizes['observations']} observations, {sizes['forecast_samples']:,} predictive draws, "
        f"{sizes['scenarios']} scenarios (built in {build_s:.1f} s, not part of the timings).",
        "",
        "## Time to first render (ms)",
        "",
        "From `driver.get(url)` until the page's main element is in the DOM and Dash has no callback in flight; "
        f"{args.loads} fresh loads per page after one warm-up load.",
        "",
        "| page | loads | median | p95 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[_row(name, values) for name, values in pages.items()],
        "",
        "## Callback latency (ms)",
        "",
        "`request`: each `/_dash-update-component` request's duration in the browser's resource timing "
        "(request start → response end); an interaction can make more than one (URL sync is client-side and "
        "makes none). `wall`: from the input event to the changed text in the DOM, seen from Selenium "
        "(includes the WebDriver round trips and polling every 10 ms).",
        "",
        "| callback | n | median | p95 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, parts in callbacks.items():
        lines.append(_row(f"{name} — request", parts["request"]))
        lines.append(_row(f"{name} — wall", parts["wall"]))
    worst_page = max(_p95(v) for v in pages.values())
    worst_cb = max(_p95(p["request"]) for p in callbacks.values())
    lines += [
        "",
        "## Against the goals",
        "",
        f"- every page interactive in under 1.5 s: worst page p95 = {worst_page:.0f} ms "
        f"({'met' if worst_page < 1500 else 'NOT met'}).",
        f"- callbacks p95 under 200 ms: worst callback request p95 = {worst_cb:.0f} ms "
        f"({'met' if worst_cb < 200 else 'NOT met'}).",
        "",
    ]
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
