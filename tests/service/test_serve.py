"""`serve --workers 2` starts a real server: health, readiness, login, and the API with a token."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

PASSWORD = "a long serve-test password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_with_two_workers(demo_home: Path, tmp_path: Path, copy_home: Any) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    cmd = [sys.executable, "-m", "service"]
    subprocess.run([*cmd, "users", "add", "boss", "--role", "leader", "--region", "pudong", "--password-stdin",
                    "--home", str(home)], input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    token = subprocess.run([*cmd, "tokens", "create", "boss", "--home", str(home)], text=True, check=True,
                           capture_output=True).stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen([*cmd, "serve", "--home", str(home), "--port", str(port), "--workers", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.5)
        assert httpx.get(f"{base}/readyz").status_code == 200
        with httpx.Client(base_url=base) as client:
            form = client.get("/login")
            csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            done = client.post("/login", data={"name": "boss", "password": PASSWORD, "csrf_token": csrf, "next": "/"})
            assert done.status_code == 303 and "dtscope_session" in client.cookies
            page = client.get("/", headers={"Accept": "text/html"})
            assert page.status_code == 200 and "_dash-config" in page.text  # the real dashboard, behind the login
        anonymous = httpx.get(f"{base}/", headers={"Accept": "text/html"})
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
        kpis = httpx.get(f"{base}/api/v1/kpis", headers={"Authorization": f"Bearer {token}"})
        assert kpis.status_code == 200 and {i["region"] for i in kpis.json()["items"]} == {"pudong"}
        assert httpx.get(f"{base}/api/v1/kpis").status_code == 401
        assert httpx.get(f"{base}/healthz", headers={"Host": "rebind.example"}).status_code == 400
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
