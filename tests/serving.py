"""A real ``dtscope serve`` for a test: accounts made through the CLI, a free port, wait for ``/healthz``, stop."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_accounts(
    cli: list[str],
    home: Path,
    accounts: Mapping[str, tuple[str, str, str | None]],
    password: str,
    env: dict[str, str] | None = None,
) -> None:
    """``users add NAME --role R --region G [--department D] --password-stdin`` for each (role, region, department)."""
    for name, (role, region, department) in accounts.items():
        args = [*cli, "users", "add", name, "--role", role, "--region", region, "--password-stdin", "--home", str(home)]
        if department:
            args += ["--department", department]
        done = subprocess.run(args, input=password + "\n", text=True, capture_output=True, env=env, check=False)
        assert done.returncode == 0, done.stderr + done.stdout


@contextlib.contextmanager
def served(
    cli: list[str], home: Path, *, workers: int = 1, env: dict[str, str] | None = None, startup_seconds: float = 90
) -> Iterator[str]:
    """``serve`` on ``home`` and a free port, its output in ``home/serve.log``; yields its base URL once
    ``/healthz`` answers 200 (fails the test if it exits or does not answer in time); stops it afterwards."""
    port = free_port()
    log_path = home / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*cli, "serve", "--home", str(home), "--port", str(port), "--workers", str(workers)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_seconds
            while not _healthy(base):
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"dtscope serve did not start: {log_path.read_text()[-3000:]}")
                time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False
