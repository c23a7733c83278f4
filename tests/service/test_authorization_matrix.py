"""The authorisation matrix: every API route × every role × in-scope / out-of-scope region × anonymous.

Generated from ONE table, :data:`EXPECTED`. A route of the app without an entry fails
:func:`test_every_route_has_an_entry`, so a new route cannot ship without deciding who may call it.
All accounts are scoped to Pudong; "out of scope" asks for (or sends) Hongkou.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.principal import ROLES

IN_SCOPE, OUT_OF_SCOPE = "pudong", "hongkou"
Service = Any

ALL = dict.fromkeys(ROLES, (200, 403))  # readers: in-scope 200, explicit out-of-scope region 403
NO_REGION = dict.fromkeys(ROLES, (200, 200))  # region-free data: same answer either way


def _only(role: str, status: int) -> dict[str, tuple[int, int]]:
    """Only ``role`` may: ``status`` in scope, 403 out of scope; every other role 403."""
    return {r: (403, 403) for r in ROLES} | {role: (status, 403)}

# (method, path) -> (anonymous status, {role: (in-scope status, out-of-scope status)})
EXPECTED: dict[tuple[str, str], tuple[int, dict[str, tuple[int, int]]]] = {
    ("GET", "/api/v1/kpis"): (401, ALL),
    ("GET", "/api/v1/observations"): (401, ALL),
    ("GET", "/api/v1/forecasts"): (401, ALL),
    ("GET", "/api/v1/attainment"): (401, ALL),
    ("GET", "/api/v1/scenarios"): (401, ALL),
    ("GET", "/api/v1/scores"): (401, ALL),
    ("GET", "/api/v1/efficacy"): (401, ALL),
    ("GET", "/api/v1/runs"): (401, {**NO_REGION, "owner": (403, 403)}),
    ("GET", "/api/v1/audit"): (401, {r: (403, 403) for r in ROLES} | {"admin": (200, 200)}),
    # out-of-scope rows of an upload are rejected (200 with out_of_scope rejects), never written
    ("POST", "/api/v1/ingest"): (401, {r: (403, 403) for r in ROLES} | {"owner": (200, 200), "admin": (200, 200)}),
    # Rounds: "out of scope" acts on a Hongkou round (or opens one); run with rounds in the right state by
    # tests/service/test_rounds_matrix.py, which reads these rows.
    ("POST", "/api/v1/rounds"): (401, _only("leader", 201) | {"admin": (201, 403)}),
    ("GET", "/api/v1/rounds"): (401, NO_REGION),
    ("GET", "/api/v1/rounds/{round_id}"): (401, ALL),
    ("PUT", "/api/v1/rounds/{round_id}/judgements/{scenario_id}"): (401, _only("evaluator", 200)),
    ("GET", "/api/v1/rounds/{round_id}/judgements"): (401, ALL),
    ("PUT", "/api/v1/rounds/{round_id}/ahp/{node}"): (401, _only("evaluator", 200)),
    ("GET", "/api/v1/rounds/{round_id}/ahp"): (401, ALL),
    ("POST", "/api/v1/rounds/{round_id}/submit"): (401, _only("evaluator", 200)),
    ("POST", "/api/v1/rounds/{round_id}/approve"): (401, _only("leader", 200)),
    ("POST", "/api/v1/rounds/{round_id}/return"): (401, _only("leader", 200)),
    ("POST", "/api/v1/rounds/{round_id}/revisions"): (401, _only("leader", 201)),
    ("GET", "/api/v1/rounds/{round_id}/scores"): (401, ALL),
    ("GET", "/api/v1/rounds/{round_id}/agreement"): (401, ALL),
    ("GET", "/api/v1/rounds/{round_id}/report"): (401, ALL),
    # owners' part: every reader sees the self-assessments of the scenarios it may see; only owners write
    ("GET", "/api/v1/rounds/{round_id}/self-assessment"): (401, ALL),
    ("PUT", "/api/v1/rounds/{round_id}/self-assessment/{scenario_id}/{indicator_id}"): (401, _only("owner", 200)),
    # results applied: every reader reads rectifications (owners: their department's), 标杆 and funds; only the
    # scenario's department's owner updates its rectification item
    ("GET", "/api/v1/rounds/{round_id}/rectifications"): (401, ALL),
    ("PUT", "/api/v1/rounds/{round_id}/rectifications/{scenario_id}"): (401, _only("owner", 200)),
    ("GET", "/api/v1/rounds/{round_id}/benchmarks"): (401, ALL),
    ("GET", "/api/v1/rounds/{round_id}/funds"): (401, ALL),
}
SKIP = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect", "/api/v1/{rest:path}"}


def _walk(routes: Any, prefix: str = "") -> Any:
    """(method, path) of every route, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        sub = getattr(route, "original_router", None)
        if sub is not None:
            yield from _walk(sub.routes, prefix + getattr(route.include_context, "prefix", ""))
        else:
            for method in getattr(route, "methods", None) or ():
                yield method, prefix + getattr(route, "path", "")


def api_routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, path)
        for method, path in _walk(app.fastapi.routes)
        if path.startswith("/api/v1") and path not in SKIP and method not in ("HEAD", "OPTIONS")
    }


def test_route_walk_agrees_with_the_openapi_document(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home)
    spec = svc.client.get("/api/v1/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert documented == api_routes(svc.app)


@pytest.fixture(scope="module")
def matrix_home(demo_home: Path, tmp_path_factory: pytest.TempPathFactory, copy_home: Any) -> Path:
    return copy_home(demo_home, tmp_path_factory.mktemp("matrix") / "home")


def _call(svc: Service, method: str, path: str, region: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "POST":
        csv = f"kpi_id,region,period,value,source\n4g_coverage,{region},2031,99.1,matrix test\n"
        return svc.client.post(path, headers=headers, files={"file": ("matrix.csv", csv.encode(), "text/csv")})
    return svc.client.get(path, headers=headers, params={"region": region, "limit": 1000})


def test_every_route_has_an_entry(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home)
    routes = api_routes(svc.app)
    assert routes, "no API routes found"
    missing = routes - EXPECTED.keys()
    assert not missing, f"routes without an entry in the authorisation table: {sorted(missing)}"
    stale = EXPECTED.keys() - routes
    assert not stale, f"entries for routes that no longer exist: {sorted(stale)}"


def test_authorisation_matrix(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home)
    tokens = {role: svc.user(f"{role}-pd", role, department="区科经委" if role == "owner" else None) for role in ROLES}
    failures = []
    for (method, path), (anonymous, by_role) in EXPECTED.items():
        if path.startswith("/api/v1/rounds"):
            continue  # needs rounds to act on: tests/service/test_rounds_matrix.py
        got = _call(svc, method, path, IN_SCOPE, None).status_code
        if got != anonymous:
            failures.append(f"anonymous {method} {path}: {got} != {anonymous}")
        for role in ROLES:
            for region, expected in zip((IN_SCOPE, OUT_OF_SCOPE), by_role[role], strict=True):
                response = _call(svc, method, path, region, tokens[role])
                if response.status_code != expected:
                    failures.append(f"{role} {method} {path} region={region}: {response.status_code} != {expected}")
                    continue
                if response.status_code >= 400:
                    assert response.headers["content-type"].startswith("application/problem+json")
                    continue
                body = response.json()
                if method == "POST":
                    if region == OUT_OF_SCOPE:
                        assert body["accepted"] == 0 and body["unchanged"] == 0, body
                        assert {r["reason_code"] for r in body["rejects"]} == {"out_of_scope"}, body
                    else:
                        assert body["accepted"] + body["unchanged"] == 1, body
                elif body["items"] and "region" in body["items"][0]:
                    assert {i["region"] for i in body["items"]} == {region}
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", ["/api/v1/kpis", "/api/v1/observations", "/api/v1/forecasts",
                                  "/api/v1/attainment", "/api/v1/scenarios", "/api/v1/scores"])
def test_reads_without_a_region_return_only_the_callers_regions(make_service: Any, demo_home: Path, path: str) -> None:
    svc = make_service(demo_home)
    pudong, everything = svc.user("ev-pd", "evaluator"), svc.user("ev-all", "evaluator", regions=("*",))
    mine = svc.client.get(path, params={"limit": 1000}, headers={"Authorization": f"Bearer {pudong}"}).json()
    allr = svc.client.get(path, params={"limit": 1000}, headers={"Authorization": f"Bearer {everything}"}).json()
    assert {i["region"] for i in mine["items"]} == {IN_SCOPE}
    assert {IN_SCOPE, OUT_OF_SCOPE} <= {i["region"] for i in allr["items"]}  # the filter has something to remove


def test_efficacy_is_filtered_through_the_scenarios_region(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    token = svc.user("ev-hk", "evaluator", regions=(OUT_OF_SCOPE,))
    scen = svc.client.get("/api/v1/scenarios", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}).json()
    eff = svc.client.get("/api/v1/efficacy", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}).json()
    hongkou_ids = {s["scenario_id"] for s in scen["items"]}
    assert eff["items"], "demo efficacy has Hongkou rows"
    assert {e["scenario_id"] for e in eff["items"]} <= hongkou_ids


def test_owner_sees_only_its_departments_scenarios(make_service: Any, demo_home: Path) -> None:
    svc = make_service(demo_home)
    token = svc.user("own", "owner", department="区科经委")
    nodept = svc.user("own2", "owner")
    items = svc.client.get("/api/v1/scenarios", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}).json()["items"]
    assert items and {i["owner"] for i in items} == {"区科经委"} and {i["region"] for i in items} == {IN_SCOPE}
    none = svc.client.get("/api/v1/scenarios", headers={"Authorization": f"Bearer {nodept}"}).json()
    assert none["items"] == []
