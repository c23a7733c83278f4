"""Settings a team deployment sets through the environment (README, "Running dtscope for a team")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.settings import load_settings
from tests.service.conftest import PASSWORD


@pytest.mark.parametrize(("value", "secure"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_secure_cookies_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, secure: bool) -> None:
    monkeypatch.setenv("DTSCOPE_SECURE_COOKIES", value)
    monkeypatch.setenv("DTSCOPE_ALLOWED_HOSTS", "dtscope.example.gov.cn, localhost")
    monkeypatch.setenv("DTSCOPE_DATABASE_URL", "postgresql+psycopg://dtscope@db.internal/dtscope")
    settings = load_settings(tmp_path)
    assert settings.secure_cookies is secure
    assert settings.allowed_hosts == ("dtscope.example.gov.cn", "localhost")
    assert settings.database_url == "postgresql+psycopg://dtscope@db.internal/dtscope"


def test_forced_secure_cookies_over_plain_http(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home, secure_cookies=True)  # TLS ends at a proxy that sends no X-Forwarded-Proto
    svc.user("lee", "leader")
    page = svc.client.get("/login")
    login_cookie = page.headers["set-cookie"]
    assert "Secure" in login_cookie
    # the browser talks TLS to the proxy, so it does send the Secure cookie back; httpx over http would not
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    svc.client.cookies.clear()
    done = svc.client.post(
        "/login", data={"name": "lee", "password": PASSWORD, "csrf_token": csrf, "next": "/"},
        headers={"Cookie": login_cookie.split(";", 1)[0]}, follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    cookies = done.headers.get_list("set-cookie")
    for name in ("dtscope_session=", "_csrf_token="):
        cookie = next(c for c in cookies if c.startswith(name))
        assert "Secure" in cookie, cookie
