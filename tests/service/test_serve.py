"""`serve --workers 2` starts a real server: health, readiness, login, and the API with a token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import served

PASSWORD = "a long serve-test password"


@pytest.mark.slow
def test_serve_with_two_workers(demo_home: Path, tmp_path: Path, copy_home: Any) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    cmd = [sys.executable, "-m", "service"]
    subprocess.run([*cmd, "users", "add", "boss", "--role", "leader", "--region", "pudong", "--password-stdin",
                    "--home", str(home)], input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    token = subprocess.run([*cmd, "tokens", "create", "boss", "--home", str(home)], text=True, check=True,
                           capture_output=True).stdout.strip().splitlines()[-1]
    with served(cmd, home, workers=2) as base:
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
