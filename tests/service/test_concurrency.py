"""Concurrent writers and readers on one home: a writer waits or gets 503 with Retry-After, never a lock error.

- unit: a DuckDB reader (or writer) held open by another process makes an API ingest wait and then land,
  or — past the wait — answer 503 with ``Retry-After``; the same for an ``as_of`` read;
- integration (slow): two ``dtscope serve`` processes on one home, a ``dtscope run`` and repeated
  ``dtscope ingest`` runs, while clients read from both servers and post API ingests to both: every
  response is 2xx or 503-with-Retry-After, and every ingest lands (``in = accepted + unchanged + rejected``
  and the warehouse holds each accepted row).
"""

from __future__ import annotations

import functools
import io
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from service import backend
from service.auth import add_user, create_token
from service.settings import default_database_url
from service.store import open_store
from tests.service.conftest import DTSCOPE, Service

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
con.execute("SELECT count(*) FROM observations").fetchall()
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""


@contextmanager
def duckdb_held(path: Path, mode: str, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holds ``path`` open (``ro`` read-only or ``rw``) for ``seconds``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), mode, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def tagged_csv(home: Path, tag: str, rows: slice) -> tuple[bytes, int]:
    """Demo observations with a new ``note`` (so each row is a new vintage), as CSV bytes, and the row count."""
    demo = pl.read_csv(home / "demo" / "observations.csv", infer_schema_length=0)
    part = demo[rows].with_columns(pl.lit(tag).alias("note"))
    buf = io.BytesIO()
    part.write_csv(buf)
    return buf.getvalue(), part.height


def landed(home: Path, tag: str) -> int:
    """How many observation rows (any vintage) carry ``note == tag``."""
    from pipelines.io.warehouse import Warehouse

    return Warehouse(home / "warehouse.duckdb").observations(all_vintages=True).filter(pl.col("note") == tag).height


@pytest.fixture
def writable(make_service: Callable[..., Service], demo_home: Path, copy_home: Any, tmp_path: Path) -> tuple[Service, str]:
    home = copy_home(demo_home, tmp_path / "home")
    svc = make_service(home)
    return svc, svc.user("adm", "admin", ("*",))


def test_ingest_waits_for_a_reader_in_another_process_then_lands(writable: tuple[Service, str]) -> None:
    svc, token = writable
    home = svc.settings.home
    csv, n = tagged_csv(home, "waited-for-reader", slice(0, 12))
    with duckdb_held(home / "warehouse.duckdb", "ro", 1.5):
        started = time.monotonic()
        done = svc.client.post("/api/v1/ingest", headers={"Authorization": f"Bearer {token}"}, files={"file": ("w.csv", csv)})
        waited = time.monotonic() - started
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["in"] == n == body["accepted"] + body["unchanged"] + body["rejected"] and body["accepted"] == n
    assert waited > 0.5  # it did meet the reader, and waited instead of failing
    assert landed(home, "waited-for-reader") == n


def test_ingest_past_the_wait_is_a_503_with_retry_after_and_changes_nothing(
    writable: tuple[Service, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, token = writable
    home = svc.settings.home
    monkeypatch.setattr(backend, "ingest_upload", functools.partial(backend.ingest_upload, lock_timeout=0.6))
    csv, _ = tagged_csv(home, "refused-while-read", slice(0, 5))
    with duckdb_held(home / "warehouse.duckdb", "ro", 30):
        done = svc.client.post("/api/v1/ingest", headers={"Authorization": f"Bearer {token}"}, files={"file": ("w.csv", csv)})
    assert done.status_code == 503, done.text
    assert done.headers["retry-after"].isdigit() and done.headers["content-type"] == "application/problem+json"
    assert "lock" not in done.text.casefold() and str(home) not in done.text
    assert landed(home, "refused-while-read") == 0


def test_as_of_read_during_a_long_write_is_a_503_with_retry_after(
    writable: tuple[Service, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, token = writable
    monkeypatch.setattr(backend, "observations_as_of", functools.partial(backend.observations_as_of, lock_timeout=0.6))
    now = datetime.now(UTC).isoformat()
    auth = {"Authorization": f"Bearer {token}"}
    with duckdb_held(svc.settings.home / "warehouse.duckdb", "rw", 30):
        busy = svc.client.get("/api/v1/observations", params={"as_of": now, "limit": 5}, headers=auth)
    assert busy.status_code == 503 and busy.headers["retry-after"].isdigit(), busy.text
    after = svc.client.get("/api/v1/observations", params={"as_of": now, "limit": 5}, headers=auth)
    assert after.status_code == 200 and len(after.json()["items"]) == 5


def test_reads_and_writes_on_threads_of_one_server_take_turns(writable: tuple[Service, str]) -> None:
    """One worker answers on many threads; DuckDB refuses a read-only and a read-write open of one file
    in one process at the same time, so without taking turns an ``as_of`` read during an ingest is a 500."""
    svc, token = writable
    home = svc.settings.home
    auth = {"Authorization": f"Bearer {token}"}
    stop = threading.Event()
    statuses: list[tuple[str, int, str]] = []

    def read() -> None:
        while not stop.is_set():
            r = svc.client.get("/api/v1/observations", params={"as_of": datetime.now(UTC).isoformat(), "limit": 5}, headers=auth)
            statuses.append(("read", r.status_code, r.headers.get("retry-after", "")))

    def write(k: int) -> None:
        for j in range(4):
            data, _ = tagged_csv(home, f"thread-{k}-{j}", slice(40 * k + 10 * j, 40 * k + 10 * j + 10))
            r = svc.client.post("/api/v1/ingest", headers=auth, files={"file": ("t.csv", data)})
            statuses.append(("write", r.status_code, r.headers.get("retry-after", "")))

    with ThreadPoolExecutor(max_workers=6) as pool:
        readers = [pool.submit(read) for _ in range(3)]
        writers = [pool.submit(write, k) for k in range(3)]
        for f in writers:
            f.result(timeout=300)
        stop.set()
        for f in readers:
            f.result(timeout=60)
    bad = [s for s in statuses if not (s[1] == 200 or (s[1] == 503 and s[2].isdigit()))]
    assert not bad, Counter(bad)
    assert sum(1 for s in statuses if s[0] == "read" and s[1] == 200) > 3
    for k in range(3):
        for j in range(4):
            assert landed(home, f"thread-{k}-{j}") == 10


# ------------------------------------------------------------------------------------------ integration
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Log:
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[tuple[str, str, int, str]] = field(default_factory=list)  # server, what, status, detail

    def add(self, server: str, what: str, response: httpx.Response) -> None:
        detail = ""
        if response.status_code == 503:
            detail = f"retry-after={response.headers.get('retry-after')}"
        elif response.status_code >= 300:
            detail = response.text[:300]
        with self.lock:
            self.answers.append((server, what, response.status_code, detail))


def _wait_ready(base: str, proc: subprocess.Popen[str], timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{base}: server exited with {proc.returncode}"
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base} did not become ready")


@pytest.mark.slow
def test_two_servers_a_run_and_cli_ingests_on_one_home(demo_home: Path, copy_home: Any, tmp_path: Path) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    store = open_store(default_database_url(home), lock_dir=home)
    with store.unit() as s:
        add_user(s, "adm", role="admin", regions=("*",), password="concurrency test password")
        _, admin = create_token(s, "adm", expires=None)
        add_user(s, "lead", role="leader", regions=("pudong",), password="concurrency test password")
        _, leader = create_token(s, "lead", expires=None)
    store.engine.dispose()

    ports = [_free_port(), _free_port()]
    logs = [(tmp_path / f"serve-{p}.log").open("w") for p in ports]  # a pipe would fill with access logs and stall
    servers = [
        subprocess.Popen(
            [DTSCOPE, "serve", "--home", str(home), "--port", str(p), "--workers", "2"],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )
        for p, out in zip(ports, logs, strict=True)
    ]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    log = Log()
    api_ingests: dict[str, tuple[int, dict[str, Any]]] = {}  # tag -> (rows sent, final answer)
    cli_tags: list[tuple[str, int]] = []
    run_out = ""
    try:
        for base, proc in zip(bases, servers, strict=True):
            _wait_ready(base, proc)
        # CLI ingest files: rows 200.. (API ingests use rows 0..199, so each file changes its own keys)
        cli_files = []
        for i in range(3):
            tag = f"cli-{i}"
            data, n = tagged_csv(home, tag, slice(200 + 20 * i, 220 + 20 * i))
            path = tmp_path / f"{tag}.csv"
            path.write_bytes(data)
            cli_files.append(path)
            cli_tags.append((tag, n))

        run = subprocess.Popen([DTSCOPE, "run", "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        stop = threading.Event()
        cli_results: list[subprocess.CompletedProcess[str]] = []

        def cli_ingests() -> None:
            for path in cli_files:
                time.sleep(random.uniform(1, 4))
                cli_results.append(
                    subprocess.run([DTSCOPE, "ingest", str(path), "--home", str(home)], check=False, capture_output=True, text=True, timeout=300)
                )

        def reader(k: int) -> None:
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            reads = [
                ("kpis", "/api/v1/kpis?limit=50", leader),
                ("observations", "/api/v1/observations?limit=100", leader),
                ("observations as_of", f"/api/v1/observations?limit=20&as_of={now}", admin),
                ("scores", "/api/v1/scores?limit=50", admin),
                ("runs", "/api/v1/runs?limit=20", admin),
                ("readyz", "/readyz", None),
            ]
            with httpx.Client(timeout=120) as client:
                i = k
                while not stop.is_set():
                    server = i % 2
                    what, path, token = reads[i % len(reads)]
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    log.add(bases[server], what, client.get(bases[server] + path, headers=headers))
                    i += 1
                    time.sleep(0.05)

        def ingester(k: int) -> None:
            with httpx.Client(timeout=120) as client:
                for j in range(5):
                    tag = f"api-{k}-{j}"
                    data, n = tagged_csv(home, tag, slice(100 * k + 20 * j, 100 * k + 20 * j + 20))
                    server = (k + j) % 2
                    for _attempt in range(60):
                        r = client.post(
                            bases[server] + "/api/v1/ingest", headers={"Authorization": f"Bearer {admin}"},
                            files={"file": (f"{tag}.csv", data)},
                        )
                        log.add(bases[server], "ingest", r)
                        if r.status_code != 503:
                            break
                        time.sleep(min(float(r.headers.get("retry-after", "1")), 2))
                    api_ingests[tag] = (n, r.json() if r.status_code == 200 else {"status": r.status_code})
                    time.sleep(random.uniform(0.5, 2))

        with ThreadPoolExecutor(max_workers=7) as pool:
            work = [pool.submit(cli_ingests), *(pool.submit(ingester, k) for k in range(2))]
            readers = [pool.submit(reader, k) for k in range(4)]
            for f in work:
                f.result(timeout=900)
            run_out, _ = run.communicate(timeout=900)
            stop.set()
            for f in readers:
                f.result(timeout=300)
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for out in logs:
            out.close()

    bad = [a for a in log.answers if not (200 <= a[2] < 300 or (a[2] == 503 and a[3].split("=")[-1].isdigit()))]
    assert not bad, sorted(Counter((a[1], a[2], a[3][:200]) for a in bad).items())
    assert len(log.answers) > 100 and {a[0] for a in log.answers} == set(bases)
    assert not any("lock" in a[3].casefold() for a in log.answers)
    assert run.returncode == 0, run_out[-3000:]  # after the HTTP checks, so a failed run still shows those
    for result in cli_results:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(cli_results) == len(cli_tags)
    assert len(api_ingests) == 10
    for tag, (sent, answer) in api_ingests.items():
        assert "in" in answer, (tag, answer)
        assert answer["in"] == sent == answer["accepted"] + answer["unchanged"] + answer["rejected"], (tag, answer)
        assert landed(home, tag) == answer["accepted"] == sent, (tag, answer)
    for tag, sent in cli_tags:
        assert landed(home, tag) == sent, tag
    print(  # the -s output says what the test saw
        f"{len(log.answers)} answers: "
        + ", ".join(f"{s}: {sum(1 for a in log.answers if a[2] == s)}" for s in sorted({a[2] for a in log.answers}))
    )
