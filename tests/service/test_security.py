"""Security behaviour through HTTP: tokens, accounts, login throttling, sessions, CSRF, headers, Host,
problem documents, CSV neutralising, upload limits and the audit trail."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from service.auth import AccountError, add_user
from service.cli import cli
from service.store.models import ApiToken, AuditEvent

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"]
    assert "Traceback" not in response.text and "/tmp" not in response.text and "/work" not in response.text
    return body


def test_token_is_printed_once_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    added = runner.invoke(cli, ["users", "add", "ana", "--role", "leader", "--region", "pudong", "--password-stdin",
                                "--home", str(home)], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    made = runner.invoke(cli, ["tokens", "create", "ana", "--expires", "90d", "--home", str(home)])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("dts_") and len(token) > 40
    listed = runner.invoke(cli, ["tokens", "list", "--home", str(home)])
    assert token not in listed.output and token.split("_")[1] in listed.output
    db = (home / "service.db").read_bytes() + b"".join(p.read_bytes() for p in home.glob("service.db-*"))
    assert token.encode() not in db
    from service.store import open_store

    store = open_store(f"sqlite:///{home / 'service.db'}")
    with store.unit() as s:
        row = s.scalar(select(ApiToken))
        assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_password_minimum_length(make_service: Any, demo_home: Path, tmp_path: Path) -> None:
    svc = make_service(demo_home)
    with svc.store.unit() as s, pytest.raises(AccountError, match="at least 12"):
        add_user(s, "short", role="leader", regions=("pudong",), password="elevenchars")
    out = CliRunner().invoke(cli, ["users", "add", "b", "--role", "leader", "--region", "pudong", "--password-stdin",
                                   "--home", str(tmp_path / "h")], input="tooshort\n")
    assert out.exit_code == 1 and "at least 12" in out.output


def test_revoked_token_and_disabled_user_get_401(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    token = svc.user("rev", "leader")
    assert svc.client.get("/api/v1/kpis", headers=bearer(token)).status_code == 200
    prefix = token.split("_")[1]
    from service.auth import revoke_token, set_disabled

    with svc.store.unit() as s:
        revoke_token(s, prefix)
    is_problem(svc.client.get("/api/v1/kpis", headers=bearer(token)), 401)

    other = svc.user("dis", "leader")
    assert svc.login("dis").status_code == 303
    assert svc.client.get("/api/v1/kpis").status_code == 200  # the session works
    with svc.store.unit() as s:
        set_disabled(s, "dis", True)
    is_problem(svc.client.get("/api/v1/kpis", headers=bearer(other)), 401)
    is_problem(svc.client.get("/api/v1/kpis"), 401)  # and the session ended with it
    is_problem(svc.client.get("/api/v1/kpis", headers=bearer("dts_nope_" + "x" * 40)), 401)
    is_problem(svc.client.get("/api/v1/kpis", headers={"Authorization": "Basic YTpi"}), 401)


def test_login_is_rate_limited_per_account_and_per_address(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    svc.user("vic", "leader")
    for _ in range(5):
        assert svc.login("vic", "wrong password!!").status_code == 401
    limited = svc.login("vic")  # even the right password is refused now
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    svc2 = make_service(demo_home)
    for i in range(20):
        assert svc2.login(f"nobody{i}", "wrong password!!").status_code == 401
    svc2.user("fresh", "leader")
    assert svc2.login("fresh").status_code == 429  # the address is throttled across accounts


def test_session_idle_and_absolute_timeouts(make_service: Any, demo_home: Path) -> None:
    idle = make_service(demo_home, session_idle_seconds=1)
    idle.user("i", "leader")
    assert idle.login("i").status_code == 303
    assert idle.client.get("/dash-page", headers={"Accept": "application/json"}).status_code == 200
    time.sleep(1.6)
    is_problem(idle.client.get("/dash-page", headers={"Accept": "application/json"}), 401)
    gone = idle.client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")

    absolute = make_service(demo_home, session_absolute_seconds=2, session_idle_seconds=60)
    absolute.user("a", "leader")
    assert absolute.login("a").status_code == 303
    for _ in range(3):  # kept busy, still ends
        assert absolute.client.get("/api/v1/kpis").status_code == 200
        time.sleep(0.5)
    time.sleep(1.0)
    is_problem(absolute.client.get("/api/v1/kpis"), 401)


def test_login_sets_safe_cookies_and_the_dashboard_gets_the_principal(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    svc.user("lee", "leader", regions=("hongkou",))
    response = svc.login("lee")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("dtscope_session="))
    assert "HttpOnly" in session and "samesite=lax" in session.lower() and "Secure" not in session
    seen = svc.client.get("/kpi/x", headers={"Accept": "application/json"}).json()
    assert seen == {"path": "/kpi/x", "method": "GET", "role": "leader", "regions": ["hongkou"], "name": "lee"}
    tls = make_service(demo_home)
    tls.client.base_url = tls.client.base_url.copy_with(scheme="https")  # served over TLS
    tls.user("s", "leader")
    cookie = next(c for c in tls.login("s").headers.get_list("set-cookie") if c.startswith("dtscope_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "strict-transport-security" in tls.client.get("/healthz").headers


def test_csrf_is_required_for_cookie_authenticated_writes(
    make_service: Any, demo_home: Path, tmp_path: Path, copy_home: Any
) -> None:
    svc = make_service(copy_home(demo_home, tmp_path / "h"))
    svc.user("own", "owner")
    assert svc.login("own").status_code == 303
    csrf = svc.client.cookies.get("_csrf_token")
    csv = b"kpi_id,region,period,value\n4g_coverage,pudong,2032,99.3\n"
    is_problem(svc.client.post("/api/v1/ingest", files={"file": ("a.csv", csv)}), 403)
    is_problem(svc.client.post("/api/v1/ingest", files={"file": ("a.csv", csv)}, headers={"X-CSRFToken": "forged"}), 403)
    ok = svc.client.post("/api/v1/ingest", files={"file": ("a.csv", csv)}, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 200, ok.text
    is_problem(svc.client.post("/_dash-update-component", json={}), 403)  # dashboard callbacks too
    assert svc.client.post("/_dash-update-component", json={}, headers={"X-CSRFToken": csrf}).status_code == 200
    is_problem(svc.client.post("/logout"), 403)
    out = svc.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    is_problem(svc.client.get("/api/v1/kpis"), 401)  # logout ended the session
    # a login form posted without its own CSRF cookie is refused
    svc.client.cookies.clear()
    assert svc.client.post("/login", data={"name": "own", "password": PASSWORD, "csrf_token": "x"}).status_code == 403


def test_security_headers_everywhere(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    token = svc.user("h", "leader")
    svc.login("h")
    for path, headers in [("/api/v1/kpis", bearer(token)), ("/login", {}), ("/healthz", {}),
                          ("/some/page", {"Accept": "application/json"}), ("/api/v1/missing", {})]:
        r = svc.client.get(path, headers=headers)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["referrer-policy"] == "same-origin", path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src" in csp, path
    assert "script-src" not in svc.client.get("/login").headers["content-security-policy"]  # no script at all


def test_host_allow_list(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    is_problem(svc.client.get("/healthz", headers={"Host": "evil.example"}), 400)
    is_problem(svc.client.get("/healthz", headers={"Host": "evil.example:8050"}), 400)
    assert svc.client.get("/healthz", headers={"Host": "testserver:8050"}).status_code == 200


def test_errors_are_problem_documents_without_traceback_or_path(
    make_service: Any, demo_home: Path, tmp_path: Path, copy_home: Any
) -> None:
    home = copy_home(demo_home, tmp_path / "broken")
    (home / "published_tables" / "kpis.parquet").unlink()
    (home / "published_tables" / "kpis.parquet").write_bytes(b"not parquet at all")
    svc = make_service(home)
    token = svc.user("p", "admin", regions=("*",))
    is_problem(svc.client.get("/api/v1/kpis", headers=bearer(token)), 500)
    is_problem(svc.client.get("/api/v1/forecasts?limit=0", headers=bearer(token)), 422)
    is_problem(svc.client.get("/api/v1/forecasts?cursor=%%%", headers=bearer(token)), 422)
    is_problem(svc.client.get("/api/v1/nothing-here", headers=bearer(token)), 404)
    is_problem(svc.client.get("/api/v1/forecasts"), 401)
    is_problem(svc.client.post("/api/v1/ingest", headers=bearer(token), files={"file": ("x.exe", b"MZ")}), 422)
    garbage = svc.client.post("/api/v1/ingest", headers=bearer(token), files={"file": ("x.xlsx", b"PK\x03\x04 junk")})
    body = is_problem(garbage, 422)
    assert "x.xlsx" in body["detail"]


def test_upload_size_limit_is_enforced_by_the_server(make_service: Any, demo_home: Path, tmp_path: Path, copy_home: Any) -> None:
    svc = make_service(copy_home(demo_home, tmp_path / "h"), max_upload_bytes=10_000)
    token = svc.user("o", "owner")
    big = b"kpi_id,region,period,value\n" + b"4g_coverage,pudong,2030,99.0\n" * 2000
    is_problem(svc.client.post("/api/v1/ingest", headers=bearer(token), files={"file": ("big.csv", big)}), 413)

    def chunks() -> Any:  # no Content-Length: counted while streaming
        for _ in range(100):
            yield b"x" * 2000

    streamed = svc.client.post("/api/v1/ingest", headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=b"},
                               content=chunks())
    is_problem(streamed, 413)


def test_csv_export_neutralises_formula_cells(make_service: Any, demo_home: Path, tmp_path: Path, copy_home: Any) -> None:
    home = copy_home(demo_home, tmp_path / "h")
    path = home / "published_tables" / "scenarios.parquet"
    frame = pl.read_parquet(path)
    hostile = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"]
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 4)
        .then(pl.Series(hostile + [""] * (frame.height - 4)))
        .otherwise(pl.col("name_en"))
        .alias("name_en")
    )
    path.unlink()
    frame.write_parquet(path)
    svc = make_service(home)
    token = svc.user("c", "leader", regions=("*",))
    csv_text = svc.client.get("/api/v1/scenarios?limit=1000", headers={**bearer(token), "Accept": "text/csv"}).text
    for cell in hostile:
        assert f"'{cell}" in csv_text.replace('""', '"'), cell
    lines = csv_text.splitlines()
    assert not any(c.startswith(("=", "+", "@")) for line in lines[1:] for c in line.split(","))
    as_json = svc.client.get("/api/v1/scenarios?limit=1000", headers=bearer(token)).json()
    assert {i["name_en"] for i in as_json["items"]} >= set(hostile)  # data stays data in JSON


def test_login_page_escapes_and_refuses_open_redirects(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    page = svc.client.get("/login", params={"next": '/"><script>alert(1)</script>', "lang": "en"})
    assert ("<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text) or "%3Cscript%3E" in page.text
    assert "Sign in" in page.text and "登录" in svc.client.get("/login?lang=zh").text
    svc.user("r", "leader")
    csrf = svc.client.get("/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = svc.client.post("/login", data={"name": "r", "password": PASSWORD, "csrf_token": csrf, "next": "//evil.example/x"},
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_every_write_appends_an_audit_row(make_service: Any, demo_home: Path, tmp_path: Path, copy_home: Any) -> None:
    svc = make_service(copy_home(demo_home, tmp_path / "h"))
    admin = svc.user("root", "admin", regions=("*",))
    owner = svc.user("dept", "owner")
    from service.auth import Actor, revoke_token, set_disabled, set_role

    with svc.store.unit() as s:
        set_role(s, "dept", "owner", regions=("pudong", "hongkou"), actor=Actor("root", "admin", "10.0.0.1"))
        set_disabled(s, "dept", True, actor=Actor("root", "admin", "10.0.0.1"))
        set_disabled(s, "dept", False)
    csv = b"kpi_id,region,period,value\n4g_coverage,pudong,2033,99.4\n"
    assert svc.client.post("/api/v1/ingest", headers=bearer(owner), files={"file": ("w.csv", csv)}).status_code == 200
    with svc.store.unit() as s:
        revoke_token(s, owner.split("_")[1])
    rows = svc.client.get("/api/v1/audit?limit=1000", headers=bearer(admin)).json()["items"]
    actions = [r["action"] for r in rows]
    for expected in ("user.add", "token.create", "user.set_role", "user.disable", "user.enable", "ingest", "token.revoke"):
        assert expected in actions, (expected, actions)
    role_change = next(r for r in rows if r["action"] == "user.set_role")
    assert role_change["actor"] == "root" and role_change["role"] == "admin" and role_change["address"] == "10.0.0.1"
    assert '"regions": ["pudong"]' in role_change["before"] and '"hongkou"' in role_change["after"]
    ingest = next(r for r in rows if r["action"] == "ingest")
    assert ingest["actor"] == "dept" and ingest["role"] == "owner" and ingest["address"] and '"accepted": 1' in ingest["after"]
    with svc.store.engine.connect() as con, pytest.raises(Exception, match="append-only"):
        con.execute(text("UPDATE audit_events SET actor = 'x'"))
    with svc.store.engine.connect() as con, pytest.raises(Exception, match="append-only"):
        con.execute(text("DELETE FROM audit_events"))
    with svc.store.unit() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.actor == "x")) is None
