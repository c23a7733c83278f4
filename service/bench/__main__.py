"""Load bench: ``dtscope serve --workers 2`` against the old development server (``dtscope dashboard``).

Run ``python -m service.bench`` (``make bench`` calls it). It builds a demo home (``dtscope demo`` +
``dtscope run``) in a temporary folder unless given ``--home``, then for each server:

1. starts it on 127.0.0.1 (``dtscope serve --workers 2``; ``dtscope dashboard``, Flask's development server);
2. captures the page callbacks a real browser makes: headless Chromium logs in (service only), opens the
   overview, a KPI page, the scenarios and data pages, and the ``/_dash-update-component`` POST bodies
   are recorded by a script injected before the page's own (it wraps ``window.fetch``);
3. runs ``--clients`` concurrent clients (asyncio + httpx, one connection each) for ``--duration`` seconds.
   Against the service each client has its own login session (cookie + ``X-CSRFToken`` header, as
   dash-renderer sends it) and an API token, and alternates API reads (``/api/v1/kpis``, ``/observations``,
   ``/forecasts``, ``/scores``, ``/scenarios``) with replayed page callbacks; against the development
   server (no API, no login) it replays the callbacks only. Between requests a client waits a random
   think time, uniform in ``[0, --think]`` seconds (0 = back-to-back).

Latency is measured per request from send to the whole body read (``time.perf_counter``); an error is
any non-2xx answer or a transport failure. It writes ``service/bench/service.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

OUT = Path(__file__).resolve().parent / "service.md"
DTSCOPE = str(Path(sys.executable).parent / "dtscope")
PASSWORD = "bench password, long enough"
PAGES = ("/", "/kpi/online_handling_share?region=pudong", "/scenarios", "/data")
API_READS = (
    "/api/v1/kpis?limit=100",
    "/api/v1/observations?limit=100",
    "/api/v1/forecasts?limit=100",
    "/api/v1/scores?limit=100",
    "/api/v1/scenarios?limit=100",
)
RECORD_JS = """
window.__dtscopeBodies = [];
const __fetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : input.url;
  if (url.includes('_dash-update-component') && init && typeof init.body === 'string') {
    window.__dtscopeBodies.push(init.body);
  }
  return __fetch.apply(this, arguments);
};
"""
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_home(home: Path) -> None:
    for cmd in (["demo"], ["run"]):
        subprocess.run([DTSCOPE, *cmd, "--home", str(home)], check=True, capture_output=True, timeout=1800)


def make_accounts(home: Path, clients: int) -> str:
    """``bench-0..N-1`` leaders (all regions) and one API token; returns the token."""
    from service.auth import add_user, create_token
    from service.settings import default_database_url
    from service.store import open_store

    store = open_store(default_database_url(home), lock_dir=home)
    with store.unit() as s:
        for i in range(clients):
            add_user(s, f"bench-{i}", role="leader", regions=("*",), password=PASSWORD)
        _, token = create_token(s, "bench-0", expires=None)
    store.engine.dispose()
    return token


def start(cmd: list[str], base: str, ready_path: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd} exited with {proc.returncode}")
        try:
            if httpx.get(base + ready_path, timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"{base} did not come up")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------------------------- capture
def capture_callbacks(base: str, *, login: bool) -> list[str]:
    """The ``/_dash-update-component`` request bodies headless Chromium sends while opening :data:`PAGES`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    profile = Path(tempfile.mkdtemp(prefix="dtscope-bench-chrome-"))
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    bodies: list[str] = []
    try:
        # record every callback body dash-renderer sends (injected before any page script; CSP does not apply)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_JS})
        if login:
            driver.get(base + "/login?lang=en")
            driver.find_element(By.NAME, "name").send_keys("bench-0")
            driver.find_element(By.NAME, "password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url)
        idle = "return !!document.querySelector('#react-entry-point') && !document.querySelector('[data-dash-is-loading=\"true\"]');"
        for path in PAGES:
            driver.get(base + path)
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(idle))
            time.sleep(3)  # let chained callbacks finish
            bodies += driver.execute_script("return window.__dtscopeBodies || [];")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    if not bodies:
        raise RuntimeError(f"no page callbacks captured from {base}")
    return bodies


# ---------------------------------------------------------------------------------------------- load
@dataclass
class Result:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {"api": [], "callback": []})
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    seconds: float = 0.0


async def _login(client: httpx.AsyncClient, name: str) -> str:
    form = await client.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = await client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf, "next": "/"})
    if done.status_code != 303:
        raise RuntimeError(f"login of {name} failed: {done.status_code}")
    return str(client.cookies.get("_csrf_token") or client.cookies.get("dtscope_csrf") or "")


async def _client(
    i: int, base: str, *, service: bool, token: str, callbacks: list[str], clock: dict[str, Any], think: float,
    result: Result,
) -> None:
    rng = np.random.default_rng(i)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        headers = {"Content-Type": "application/json"}
        logged_in = True
        if service:  # each client its own session, logged in before the clock starts
            try:
                headers["X-CSRFToken"] = await _login(client, f"bench-{i}")
            except (httpx.HTTPError, RuntimeError, IndexError) as exc:
                result.errors[f"login {type(exc).__name__}"] += 1
                logged_in = False
        clock["ready"] += 1
        if clock["ready"] == clock["clients"]:
            clock["deadline"] = time.monotonic() + clock["duration"]
            clock["go"].set()
        await clock["go"].wait()
        if not logged_in:
            return
        n = int(rng.integers(0, 1000))
        while time.monotonic() < clock["deadline"]:
            n += 1
            kind = "api" if service and n % 2 == 0 else "callback"
            start = time.perf_counter()
            try:
                if kind == "api":
                    r = await client.get(API_READS[n // 2 % len(API_READS)], headers={"Authorization": f"Bearer {token}"})
                else:
                    r = await client.post("/_dash-update-component", content=callbacks[n % len(callbacks)], headers=headers)
                await r.aread()
                elapsed = (time.perf_counter() - start) * 1000
                if 200 <= r.status_code < 300:
                    result.latencies_ms[kind].append(elapsed)
                else:
                    result.errors[f"{kind} {r.status_code}"] += 1
            except httpx.HTTPError as exc:
                result.errors[f"{kind} {type(exc).__name__}"] += 1
            result.requests += 1
            if think > 0:
                await asyncio.sleep(float(rng.uniform(0, think)))


async def load(base: str, *, service: bool, token: str, callbacks: list[str], clients: int, duration: float, think: float) -> Result:
    result = Result()
    clock: dict[str, Any] = {"ready": 0, "clients": clients, "duration": duration, "go": asyncio.Event(), "deadline": 0.0}
    tasks = [
        _client(i, base, service=service, token=token, callbacks=callbacks, clock=clock, think=think, result=result)
        for i in range(clients)
    ]
    runner = asyncio.gather(*tasks)
    await clock["go"].wait()
    start = time.monotonic()
    await runner
    result.seconds = time.monotonic() - start
    return result


# ---------------------------------------------------------------------------------------------- report
def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}" if values else "–"


def rows(name: str, result: Result) -> list[str]:
    out = []
    everything = [*result.latencies_ms["api"], *result.latencies_ms["callback"]]
    n_errors = sum(result.errors.values())
    for kind, values in (("all", everything), ("API reads", result.latencies_ms["api"]), ("page callbacks", result.latencies_ms["callback"])):
        if not values and kind != "all":
            continue
        count = len(values) + (n_errors if kind == "all" else sum(v for k, v in result.errors.items() if k.startswith("api" if kind == "API reads" else "callback")))
        errors = count - len(values)
        out.append(
            f"| {name} | {kind} | {count} | {count / result.seconds:.1f} | {_pct(values, 50)} | {_pct(values, 95)} | "
            f"{_pct(values, 99)} | {errors} |"
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, help="a home where `dtscope demo` and `dtscope run` ran (copied)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0, help="max think time between a client's requests (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="dtscope-service-bench-"))
    home = work / "home"
    try:
        if args.home:
            shutil.copytree(args.home, home, symlinks=True, ignore=shutil.ignore_patterns("mlruns", "service.db*", "demo-accounts.txt"))
        else:
            print("building a demo home (dtscope demo + dtscope run)…", file=sys.stderr)
            build_home(home)
        token = make_accounts(home, args.clients)
        env_note = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs shared with other work"
        load_before = os.getloadavg()[0]
        results: dict[str, Result] = {}
        captured: dict[str, int] = {}

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start([DTSCOPE, "serve", "--home", str(home), "--port", str(port), "--workers", str(args.workers)], base, "/readyz")
        try:
            callbacks = capture_callbacks(base, login=True)
            captured["service"] = len(callbacks)
            print(f"service: {len(callbacks)} callbacks captured; {args.clients} clients for {args.duration:g} s", file=sys.stderr)
            results[f"`dtscope serve --workers {args.workers}`"] = asyncio.run(
                load(base, service=True, token=token, callbacks=callbacks, clients=args.clients, duration=args.duration, think=args.think)
            )
        finally:
            stop(proc)

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start([DTSCOPE, "dashboard", "--home", str(home), "--port", str(port)], base, "/")
        try:
            callbacks = capture_callbacks(base, login=False)
            captured["dev"] = len(callbacks)
            print(f"dev server: {len(callbacks)} callbacks captured", file=sys.stderr)
            results["`dtscope dashboard` (Flask dev server)"] = asyncio.run(
                load(base, service=False, token="", callbacks=callbacks, clients=args.clients, duration=args.duration, think=args.think)
            )
        finally:
            stop(proc)
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        "# Service load bench",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m service.bench` ({env_note}; load average "
        f"{load_before:.1f} at the start, {load_after:.1f} at the end; clients and servers on the same machine).",
        "",
        f"{args.clients} concurrent clients for {args.duration:g} s per server, each with one keep-alive connection, "
        f"waiting a random think time uniform in [0, {args.think:g}] s between requests. Service clients each have "
        "their own login session and alternate API reads (Bearer token: kpis, observations, forecasts, scores, "
        "scenarios, 100 rows a page) with page callbacks; development-server clients send page callbacks only "
        f"(it has no API). Page callbacks are the `/_dash-update-component` bodies headless Chromium sent while "
        f"opening {', '.join(f'`{p}`' for p in PAGES)} ({captured.get('service', 0)} from the service, "
        f"{captured.get('dev', 0)} from the development server), replayed in turn with the session's `X-CSRFToken` "
        "header. Latency: send to last body byte, successful requests only; an error is a non-2xx answer or a "
        "transport failure.",
        "",
        "| server | requests | n | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in results.items():
        lines += rows(name, result)
    lines += ["", "## Against the goal (p95 < 300 ms, zero errors)", ""]
    for name, result in results.items():
        everything = [*result.latencies_ms["api"], *result.latencies_ms["callback"]]
        p95 = float(np.percentile(everything, 95)) if everything else float("nan")
        n_errors = sum(result.errors.values())
        met = "met" if p95 < 300 and n_errors == 0 else "not met"
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or "none"
        lines.append(f"- {name}: p95 {p95:.0f} ms, {n_errors} errors ({kinds}) — {met}.")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
