"""The authorisation matrix: every route — API route, the service's own pages, dashboard page and dashboard
callback — × every role × in-scope / out-of-scope region × anonymous.

Generated from ONE table, :data:`EXPECTED`, by ONE generator, :func:`cases`. A route of the served app without
an entry (a route of the service, a Dash page in ``dash.page_registry``, a server callback in the app's
callback map) fails :func:`test_every_route_has_an_entry`, so a new route cannot ship without deciding who
may call it. All accounts are scoped to Pudong; "out of scope" asks for (or sends) Hongkou.

Keys: ``(METHOD, path)`` for the API and the service's own pages (health, the API's documents, sign-in and
sign-out); ``("PAGE", path template)`` for a Dash page (anonymous: the GET of the page; signed in: the page's
content, which Dash renders through its routing callback); ``("CALLBACK", module.function)`` for a server
callback, posted to ``/_dash-update-component`` as dash-renderer does, with the session cookie and the
session's CSRF token. For pages and callbacks every out-of-scope answer is also searched for Hongkou rows
(there must be none; see :func:`region_rows`), and the search is shown to find them in an all-regions
account's answers.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from dashboard.i18n import LABELS
from service.principal import ROLES
from service.store.models import AuditEvent
from tests.service.conftest import PASSWORD

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

IN_SCOPE, OUT_OF_SCOPE = "pudong", "hongkou"
NOWHERE = "nowhere"  # a region no table publishes
ANONYMOUS = "anonymous"
Service = Any
REFUSED = "refused"  # a dashboard callback answers 200 with the page's refusal, and nothing is written
Expect = int | str
Key = tuple[str, str]

ByRole = dict[str, tuple[Expect, Expect]]


def each(expected: tuple[Expect, Expect]) -> ByRole:
    return {role: expected for role in ROLES}


ALL = each((200, 403))  # readers: in-scope 200, explicit out-of-scope region 403
NO_REGION = each((200, 200))  # region-free data: same answer either way
NONE = each((403, 403))
SEEN = NO_REGION  # pages and callbacks: answered for every role; out of scope, without any Hongkou row
UPLOAD = each((REFUSED, REFUSED)) | {"owner": (200, REFUSED), "admin": (200, REFUSED)}


Row = tuple[int, ByRole]


def _only(role: str, status: int) -> ByRole:
    """Only ``role`` may: ``status`` in scope, 403 out of scope; every other role 403."""
    return NONE | {role: (status, 403)}


ROUND = "/api/v1/rounds/{round_id}"
# (method, path) -> (anonymous status, {role: (in-scope status, out-of-scope status)})
EXPECTED: dict[Key, Row] = {
    **dict.fromkeys([("GET", f"/api/v1/{name}") for name in
                     ("kpis", "observations", "forecasts", "attainment", "scenarios", "scores", "efficacy")],
                    (401, ALL)),
    ("GET", "/api/v1/runs"): (401, {**NO_REGION, "owner": (403, 403)}),
    ("GET", "/api/v1/audit"): (401, NONE | {"admin": (200, 200)}),
    # out-of-scope rows of an upload are rejected (200 with out_of_scope rejects), never written
    ("POST", "/api/v1/ingest"): (401, NONE | {"owner": (200, 200), "admin": (200, 200)}),
    # Rounds: "out of scope" acts on a Hongkou round (or opens one); run with rounds in the right state by
    # tests/service/test_rounds_matrix.py, which reads these rows.
    ("POST", "/api/v1/rounds"): (401, _only("leader", 201) | {"admin": (201, 403)}),
    ("GET", "/api/v1/rounds"): (401, NO_REGION),
    # every reader reads a round it may see, its judgements, AHP, scores, agreement, report, the owners'
    # self-assessments (owners: their department's), rectifications, 标杆 and funds
    **dict.fromkeys([("GET", ROUND + tail) for tail in
                     ("", "/judgements", "/ahp", "/scores", "/agreement", "/report", "/self-assessment",
                      "/rectifications", "/benchmarks", "/funds")], (401, ALL)),
    ("PUT", ROUND + "/judgements/{scenario_id}"): (401, _only("evaluator", 200)),
    ("PUT", ROUND + "/ahp/{node}"): (401, _only("evaluator", 200)),
    ("POST", ROUND + "/submit"): (401, _only("evaluator", 200)),
    ("POST", ROUND + "/approve"): (401, _only("leader", 200)),
    ("POST", ROUND + "/return"): (401, _only("leader", 200)),
    ("POST", ROUND + "/revisions"): (401, _only("leader", 201)),
    # only owners of the scenario's department write its self-assessment and update its rectification item
    ("PUT", ROUND + "/self-assessment/{scenario_id}/{indicator_id}"): (401, _only("owner", 200)),
    ("PUT", ROUND + "/rectifications/{scenario_id}"): (401, _only("owner", 200)),
    # Dashboard pages: anonymous page loads are sent to the login page (303); every role sees the page,
    # out of scope (a Hongkou region, scenario or round in the address) without a Hongkou row.
    **dict.fromkeys([("PAGE", p) for p in ("/", "/kpi/<kpi_id>", "/scenarios", "/scenarios/<scenario_id>",
                                           "/models", "/data", "/rounds", "/rounds/<round_id>")], (303, SEEN)),
    # Dashboard callbacks: anonymous posts get 401; every role is answered, out of scope without a Hongkou
    # row. The round page's callbacks build requests and render what the browser fetched from the API (whose
    # rows above decide who may act); they add names only of the scenarios the caller may see.
    **dict.fromkeys([("CALLBACK", f"dashboard.{name}") for name in (
        "app.translate_nav", "app.download", "pages.overview.update_grid", "pages.scenarios.update_league",
        "pages.kpi.update_whatif", "pages.models.update_backtest", "pages.rounds.show_rounds",
        "pages.round.show_round", "pages.round.evaluator_controls", "pages.round.show_judge_fields",
        "pages.round.save_judgement", "pages.round.show_ahp_matrix", "pages.round.review_ahp",
        "pages.round.save_ahp", "pages.round.submit", "pages.round.leader_controls",
        "pages.round.leader_action", "pages.round.show_answer",
        # the open-a-round form (offered to leaders and admins; the request it builds goes to the API's
        # POST /api/v1/rounds row above) and the owners' self-assessment form (owners; the API's PUT row)
        "pages.rounds.open_round", "pages.rounds.show_opened", "pages.round.owner_controls",
        "pages.round.show_owner_sheet", "pages.round.save_self_assessment")], (401, SEEN)),
    # uploads: owners and admins of the region (in scope the preview / the stored rows); everyone else, and
    # any file with rows out of scope, gets the page's refusal and nothing is written
    ("CALLBACK", "dashboard.pages.data.validate_upload"): (401, UPLOAD),
    ("CALLBACK", "dashboard.pages.data.confirm_upload"): (401, UPLOAD),
}
# The service's own pages: health probes, the API's documents, sign-in and sign-out (no region in them).
PUBLIC = (200, NO_REGION)
EXPECTED |= {
    **dict.fromkeys([("GET", p) for p in ("/healthz", "/readyz", "/login", "/static/login.css", "/api/v1/openapi.json",
                                          "/api/v1/docs", "/api/v1/docs/oauth2-redirect")], PUBLIC),
    ("POST", "/login"): (403, each((303, 303))),  # without the sign-in form's token: refused; each account signs in
    ("POST", "/logout"): (401, each((303, 303))),  # a session ends with its CSRF token
}
DOCUMENTS = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect"}  # not in the OpenAPI paths
CATCH_ALL = "/api/v1/{rest:path}"  # 404 for every unknown API address


def cases(rows: dict[Key, Row]) -> Iterator[tuple[Key, str, str, Expect]]:
    """Every case of ``rows``: ``(key, "anonymous" or role, region, expected)`` — anonymous once, in scope."""
    for key, (anonymous, by_role) in rows.items():
        yield key, ANONYMOUS, IN_SCOPE, anonymous
        for role in ROLES:
            for region, expected in zip((IN_SCOPE, OUT_OF_SCOPE), by_role[role], strict=True):
                yield key, role, region, expected


def rows_of(kind: Callable[[Key], bool]) -> dict[Key, Row]:
    return {k: v for k, v in EXPECTED.items() if kind(k)}


def is_api(key: Key) -> bool:
    return key[1].startswith("/api/v1") and key[1] not in DOCUMENTS


def is_session(key: Key) -> bool:
    """The service's own pages (health, documents, sign-in and out): HTTP rows outside the API's data."""
    return key[0] not in ("PAGE", "CALLBACK") and not is_api(key)


def _walk(routes: Any, prefix: str = "") -> Any:
    """(method, path) of every route, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        sub = getattr(route, "original_router", None)
        if sub is not None:
            yield from _walk(sub.routes, prefix + getattr(route.include_context, "prefix", ""))
        else:
            for method in getattr(route, "methods", None) or ():
                yield method, prefix + getattr(route, "path", "")


def service_routes(app: Any) -> set[Key]:
    """Every (method, path) the service answers itself (the dashboard mounted at ``/`` aside)."""
    return {(m, p) for m, p in _walk(app.fastapi.routes) if p != CATCH_ALL and m not in ("HEAD", "OPTIONS")}


def api_routes(app: Any) -> set[Key]:
    return {k for k in service_routes(app) if is_api(k)}


def served_dash_app() -> Any:
    from dashboard.app import _APP

    return _APP[0]


def dashboard_routes(dash_app: Any) -> set[Key]:
    """The served dashboard's pages (``dash.page_registry``) and server callbacks (its callback map, which Dash
    fills from ``@callback`` on the first request). Dash's own routing callback renders the pages (PAGE rows)."""
    import dash

    pages = {("PAGE", page.get("path_template") or page["path"]) for page in dash.page_registry.values()}
    callbacks = set()
    for spec in dash_app.callback_map.values():
        fn = spec.get("callback")  # client-side callbacks have none: they run in the browser
        if fn is not None and fn.__module__ != "dash.dash":
            callbacks.add(("CALLBACK", f"{fn.__module__}.{fn.__name__}"))
    return pages | callbacks


@pytest.fixture(scope="module")
def matrix_home(demo_home: Path, tmp_path_factory: pytest.TempPathFactory, copy_home: Any) -> Path:
    return copy_home(demo_home, tmp_path_factory.mktemp("matrix") / "home")


def test_route_walk_agrees_with_the_openapi_document(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home)
    spec = svc.client.get("/api/v1/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert documented == api_routes(svc.app)


def test_every_route_has_an_entry(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home, dashboard="default")
    svc.user("reader", "leader")
    reader = signed_in(svc, "reader")
    assert reader.get("/_dash-dependencies").status_code == 200  # Dash moves @callback into the app's map
    dash_app = served_dash_app()
    assert any(s.get("callback") and s["callback"].__module__ == "dash.dash" for s in dash_app.callback_map.values())
    routes = service_routes(svc.app) | dashboard_routes(dash_app)
    assert {k[0] for k in routes} >= {"GET", "POST", "PUT", "PAGE", "CALLBACK"}, routes
    missing = routes - EXPECTED.keys()
    assert not missing, f"routes without an entry in the authorisation table: {sorted(missing)}"
    stale = EXPECTED.keys() - routes
    assert not stale, f"entries for routes that no longer exist: {sorted(stale)}"


# ---------------------------------------------------------------------------------------------- the API
def _call(svc: Service, method: str, path: str, region: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "POST":
        csv = f"kpi_id,region,period,value,source\n4g_coverage,{region},2031,99.1,matrix test\n"
        return svc.client.post(path, headers=headers, files={"file": ("matrix.csv", csv.encode(), "text/csv")})
    return svc.client.get(path, headers=headers, params={"region": region, "limit": 1000})


def test_authorisation_matrix(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home)
    tokens: dict[str, str] = {role: svc.user(f"{role}-pd", role, department="区科经委" if role == "owner" else None)
                              for role in ROLES}  # fmt: skip
    failures = []
    # the rounds' rows need rounds to act on: tests/service/test_rounds_matrix.py
    for (method, path), who, region, expected in cases(rows_of(lambda k: is_api(k) and "/rounds" not in k[1])):
        response = _call(svc, method, path, region, tokens.get(who))
        if response.status_code != expected:
            failures.append(f"{who} {method} {path} region={region}: {response.status_code} != {expected}")
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


def test_session_routes_matrix(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home)
    for role in ROLES:
        svc.user(f"{role}-pd", role, department="区科经委" if role == "owner" else None)
    reader: dict[str, TestClient] = {role: signed_in(svc, f"{role}-pd") for role in ROLES}
    failures = []
    for (method, path), who, region, expected in cases(rows_of(is_session)):
        client = TestClient(svc.app, raise_server_exceptions=False)
        if (method, path) == ("POST", "/login"):
            if who == ANONYMOUS:  # the right password, but not through the sign-in form
                response = client.post(path, data={"name": "leader-pd", "password": PASSWORD, "csrf_token": "x"})
            else:
                response = dataclasses.replace(svc, client=client).login(f"{who}-pd")
        elif method == "POST":  # sign-out ends the session it is sent with: a session of its own
            client = client if who == ANONYMOUS else signed_in(svc, f"{who}-pd")
            response = client.post(path, data={"csrf_token": client.cookies.get("_csrf_token", "")}, follow_redirects=False)
            if response.status_code == 303:
                assert client.get("/_dash-layout").status_code == 401, "the session outlived its sign-out"
        else:
            response = (client if who == ANONYMOUS else reader[who]).get(path, follow_redirects=False)
        if response.status_code != expected:
            failures.append(f"{who} {method} {path} region={region}: {response.status_code} != {expected}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------------------- the dashboard
def signed_in(svc: Service, name: str) -> TestClient:
    """A client of its own (its own cookies) signed in as ``name`` through the login form."""
    client = TestClient(svc.app, raise_server_exceptions=False)
    assert dataclasses.replace(svc, client=client).login(name).status_code == 303
    return client


@dataclass(frozen=True)
class World:
    """What the dashboard cases ask for, read from the published tables and the store."""

    scenarios: pl.DataFrame
    rounds: dict[str, dict[str, Any]]  # region -> the browser's round-data (the API's answers) for a round
    whatifs: dict[str, str]  # region -> a KPI whose page offers the what-if there

    def whatif(self, region: str) -> dict[str, str]:
        """The what-if's key: in scope a Pudong KPI; out of scope Hongkou's, or (the demo's Hongkou targets
        are all past) another region's outside Pudong; for :data:`NOWHERE` that KPI in no region."""
        if region == IN_SCOPE:
            return {"kpi_id": self.whatifs[IN_SCOPE], "region": IN_SCOPE}
        outside = OUT_OF_SCOPE if OUT_OF_SCOPE in self.whatifs else min(set(self.whatifs) - {IN_SCOPE})
        return {"kpi_id": self.whatifs[outside], "region": NOWHERE if region == NOWHERE else outside}

    def scenario(self, region: str) -> str:
        """A scenario of ``region``; in Pudong one of the owner's department, so the owner sees it too."""
        rows = self.scenarios.filter(pl.col("region") == region)
        mine = rows.filter(pl.col("owner") == "区科经委")
        return str((mine if mine.height else rows)["scenario_id"][0])

    def names(self, region: str) -> set[str]:
        """The region's scenario names (zh and en) not also used by another region's scenarios."""
        rows, others = (self.scenarios.filter(f(pl.col("region") == region)) for f in (lambda e: e, lambda e: ~e))
        theirs = set(others["name_zh"].to_list()) | set(others["name_en"].to_list())
        return (set(rows["name_zh"].to_list()) | set(rows["name_en"].to_list())) - theirs

    def round_id(self, region: str) -> int:
        return int(self.rounds[region]["round"]["body"]["id"])


def whatif_kpis(published: Path) -> dict[str, str]:
    """A KPI per region whose what-if has something to compute: a target, draws for the target year and a
    last observed year (what ``dashboard.pages.kpi.whatif_inputs`` needs)."""
    kpis, samples, att = (pl.read_parquet(published / f"{t}.parquet")
                          for t in ("kpis", "forecast_samples", "attainment"))  # fmt: skip
    usable = (
        kpis.filter(pl.col("target_year").is_not_null() & pl.col("target_kind").is_not_null())
        .join(samples.select("kpi_id", "region", pl.col("period").alias("target_year")).unique(),
              on=["kpi_id", "region", "target_year"])
        .join(att.filter(pl.col("last_year").is_not_null()).select("kpi_id", "region"), on=["kpi_id", "region"])
        .sort("kpi_id")
    )  # fmt: skip
    return {str(r): str(k) for r, k in usable.group_by("region").agg(pl.col("kpi_id").first()).iter_rows()}


CSV_FOR = "kpi_id,region,period,value\n5g_coverage,{region},2022,97.5\n"


def _upload(region: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(CSV_FOR.format(region=region).encode()).decode()


def _me(role: str) -> dict[str, str]:
    return {"name": f"{role}-pd", "role": role}


def _cells(value: str = "3") -> list[dict[str, Any]]:
    return [{"id": {"i": 0, "j": 1, "type": "ahp-cell"}, "property": "value", "value": value}]


@dataclass(frozen=True)
class DashCall:
    """How to call one dashboard callback for a region (values by ``"id.property"``; pattern ids by their
    pattern, as a list of ``{"id", "property", "value"}``) and what its answer must show.

    Attributes:
        values: ``(world, role, region) -> values`` of the inputs and states (missing ones are None).
        changed: the ``"id.property"`` that fired.
        shows: in scope the answer shows Pudong rows, and the out-of-scope request made by an all-regions
            account shows Hongkou rows (so the check that a Pudong account sees none can fail).
        echoes: the answer re-renders a document the browser sent (a round the API gave it); only what the
            server adds (scenario names) can leak.
        absent: out of scope, the answer is the one for a region published nowhere (a figure, not a row, so
            only the comparison can tell), and an all-regions account's answer is not.
    """

    values: Callable[[World, str, str], dict[str, Any]]
    changed: str
    shows: bool = False
    echoes: bool = False
    absent: bool = False


def _round(w: World, role: str, region: str, **more: Any) -> dict[str, Any]:
    return {"round-data.data": w.rounds[region], "round-me.data": _me(role), "round-id.data": w.round_id(region),
            "lang.value": "zh", **more}  # fmt: skip


DOWNLOAD = '{"fmt":["ALL"],"region":["ALL"],"table":["ALL"],"type":"download-btn"}.n_clicks'
CALLS: dict[str, DashCall] = {
    "dashboard.app.translate_nav": DashCall(lambda w, r, g: {"lang.value": "zh"}, "lang.value"),
    "dashboard.app.download": DashCall(
        lambda w, r, g: {DOWNLOAD: [{"id": {"fmt": "csv", "region": g, "table": "kpis", "type": "download-btn"},
                                     "property": "n_clicks", "value": 1}], "lang.value": "zh"},
        json.dumps({"fmt": "csv", "region": "{g}", "table": "kpis", "type": "download-btn"}, separators=(",", ":"))
        + ".n_clicks", shows=True),
    "dashboard.pages.overview.update_grid": DashCall(
        lambda w, r, g: {"overview-region.value": g, "overview-status.value": [], "overview-obligation.value": "all",
                         "overview-search.value": "", "overview-sort.value": "p_asc", "lang.value": "zh"},
        "overview-region.value", shows=True),
    "dashboard.pages.scenarios.update_league": DashCall(
        lambda w, r, g: {"scen-filter-domain.value": ["life", "governance", "economy"], "scen-filter-region.value": [g],
                         "scen-filter-street.value": [], "scen-filter-category.value": [],
                         "scen-filter-owner.value": [], "lang.value": "zh"},
        "scen-filter-region.value", shows=True),
    "dashboard.pages.kpi.update_whatif": DashCall(
        lambda w, r, g: {"whatif-growth.value": 5, "whatif-added.value": 0, "lang.value": "zh",
                         "kpi-key.data": w.whatif(g)}, "whatif-growth.value",
        absent=True),
    "dashboard.pages.models.update_backtest": DashCall(
        lambda w, r, g: {"models-metric.value": "crps", "models-kind.value": "all", "lang.value": "zh"},
        "models-metric.value"),
    "dashboard.pages.rounds.show_rounds": DashCall(
        lambda w, r, g: {"rounds-data.data": {"rounds": {"status": 200, "body": [w.rounds[g]["round"]["body"]]}},
                         "lang.value": "zh"}, "rounds-data.data", echoes=True),
    "dashboard.pages.round.show_round": DashCall(_round, "round-data.data", shows=True, echoes=True),
    "dashboard.pages.round.evaluator_controls": DashCall(_round, "round-data.data", shows=True, echoes=True),
    "dashboard.pages.round.show_judge_fields": DashCall(
        lambda w, r, g: _round(w, r, g, **{"judge-scenario.value": w.scenario(g)}), "judge-scenario.value",
        echoes=True),
    "dashboard.pages.round.save_judgement": DashCall(
        lambda w, r, g: _round(w, r, g, **{"judge-save.n_clicks": 1, "judge-scenario.value": w.scenario(g)}),
        "judge-save.n_clicks", echoes=True),
    "dashboard.pages.round.show_ahp_matrix": DashCall(
        lambda w, r, g: _round(w, r, g, **{"ahp-node.value": "demand"}), "ahp-node.value", echoes=True),
    "dashboard.pages.round.review_ahp": DashCall(
        lambda w, r, g: _round(w, r, g, **{"ahp-node.value": "demand",
                                           '{"i":["ALL"],"j":["ALL"],"type":"ahp-cell"}.value': _cells()}),
        '{"i":0,"j":1,"type":"ahp-cell"}.value', echoes=True),
    "dashboard.pages.round.save_ahp": DashCall(
        lambda w, r, g: _round(w, r, g, **{"ahp-save.n_clicks": 1, "ahp-node.value": "demand",
                                           '{"i":["ALL"],"j":["ALL"],"type":"ahp-cell"}.value': _cells()}),
        "ahp-save.n_clicks", echoes=True),
    "dashboard.pages.round.submit": DashCall(
        lambda w, r, g: _round(w, r, g, **{"round-submit.n_clicks": 1}), "round-submit.n_clicks", echoes=True),
    "dashboard.pages.round.leader_controls": DashCall(_round, "round-data.data", echoes=True),
    "dashboard.pages.round.leader_action": DashCall(
        lambda w, r, g: _round(w, r, g, **{"round-return.n_clicks": 1, "round-reason.value": "matrix test"}),
        "round-return.n_clicks", echoes=True),
    "dashboard.pages.round.show_answer": DashCall(
        lambda w, r, g: {"round-response.data": {"status": 200, "action": "submit", "body": w.rounds[g]["round"]["body"]},
                         "round-refresh.data": 0, "lang.value": "zh"}, "round-response.data", echoes=True),
    "dashboard.pages.rounds.open_round": DashCall(
        lambda w, r, g: {"rounds-open-button.n_clicks": 1, "rounds-open-scheme.value": "default",
                         "rounds-open-period.value": "2024", "rounds-open-regions.value": [g], "lang.value": "zh"},
        "rounds-open-button.n_clicks", echoes=True),
    "dashboard.pages.rounds.show_opened": DashCall(
        lambda w, r, g: {"rounds-response.data": {"status": 201, "action": "open", "body": w.rounds[g]["round"]["body"]},
                         "rounds-refresh.data": 0, "lang.value": "zh"}, "rounds-response.data", echoes=True),
    "dashboard.pages.round.owner_controls": DashCall(_round, "round-data.data", shows=True, echoes=True),
    "dashboard.pages.round.show_owner_sheet": DashCall(
        lambda w, r, g: _round(w, r, g, **{"owner-scenario.value": w.scenario(g)}), "owner-scenario.value",
        echoes=True),
    "dashboard.pages.round.save_self_assessment": DashCall(
        lambda w, r, g: _round(w, r, g, **{"owner-save.n_clicks": 1, "owner-scenario.value": w.scenario(g),
                                           "owner-indicator.value": "usage_cases", "owner-note.value": "matrix test"}),
        "owner-save.n_clicks", echoes=True),
    "dashboard.pages.data.validate_upload": DashCall(
        lambda w, r, g: {"upload.contents": _upload(g), "upload.filename": f"{g}.csv", "lang.value": "zh"},
        "upload.contents"),
    "dashboard.pages.data.confirm_upload": DashCall(
        lambda w, r, g: {"upload-confirm.n_clicks": 1, "lang.value": "zh",
                         "upload-pending.data": {"filename": f"{g}.csv", "contents": _upload(g)}},
        "upload-confirm.n_clicks"),
}
# page template -> (the address in scope / out of scope, whether the page shows Pudong rows in scope)
PAGES: dict[str, tuple[Callable[[World, str], str], bool]] = {
    "/": (lambda w, g: f"/?region={g}", True),
    "/kpi/<kpi_id>": (lambda w, g: f"/kpi/online_handling_share?region={g}", True),
    "/scenarios": (lambda w, g: f"/scenarios?district={g}", True),
    "/scenarios/<scenario_id>": (lambda w, g: f"/scenarios/{w.scenario(g)}", True),
    "/models": (lambda w, g: "/models", False),
    "/data": (lambda w, g: "/data", False),
    "/rounds": (lambda w, g: "/rounds", False),
    "/rounds/<round_id>": (lambda w, g: f"/rounds/{w.round_id(g)}", False),
}
ROUTER = "dash.dash.update"
REFUSALS = tuple(LABELS["zh"][k].split("{")[0] for k in ("data.upload_not_allowed", "data.upload_out_of_scope"))


def callback_body(dash_app: Any, name: str, values: dict[str, Any], changed: str) -> dict[str, Any]:
    """The ``/_dash-update-component`` body dash-renderer sends for callback ``name`` (module.function)."""
    key, spec = next((k, s) for k, s in dash_app.callback_map.items()
                     if s.get("callback") and f"{s['callback'].__module__}.{s['callback'].__name__}" == name)  # fmt: skip

    def item(dep: dict[str, Any]) -> Any:
        at = f"{dep['id']}.{dep['property']}"
        if str(dep["id"]).startswith("{"):  # a pattern: every matching component, as a list
            return values.get(at, [])
        return {"id": dep["id"], "property": dep["property"], "value": values.get(at)}

    outputs = []
    for part in (key[2:-2].split("...") if key.startswith("..") else [key]):
        cid, _, prop = part.rpartition(".")
        outputs.append([] if cid.startswith("{") else {"id": cid, "property": prop})
    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [item(d) for d in spec["inputs"]], "state": [item(d) for d in spec["state"]],
            "changedPropIds": [changed]}  # fmt: skip


def answer_parts(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The row-like objects (dicts with ``region`` or ``scenario_id``, not a component's pattern id, which
    repeats the request) and the strings of an answer; file downloads are decoded (their content, not their
    name, which repeats the request too)."""
    rows: list[dict[str, Any]] = []
    strings: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "content" in node and "filename" in node:
                content = node["content"]
                strings.append(base64.b64decode(content).decode("utf-8-sig") if node.get("base64") else content)
                return
            if ("region" in node or "scenario_id" in node) and "type" not in node:  # not a component's id
                rows.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            strings.append(node)

    walk(json.loads(text) if text else None)
    return rows, strings


def region_rows(text: str, w: World, region: str, *, echoes: bool) -> list[str]:
    """What in an answer is a row of ``region``: one of its scenario names, and (unless the answer re-renders
    the browser's own document) a row naming the region or one of its scenarios, the region's name, or a
    downloaded line naming it."""
    rows, strings = answer_parts(text)
    ids = set(w.scenarios.filter(pl.col("region") == region)["scenario_id"].to_list())
    display = {IN_SCOPE: ("浦东",), OUT_OF_SCOPE: ("虹口",)}[region]
    found = [n for n in w.names(region) if any(n in s for s in strings)]
    if not echoes:
        found += [f"row {r}" for r in rows if r.get("region") == region or r.get("scenario_id") in ids][:3]
        found += [d for d in display if any(d in s for s in strings)]
        found += [f"line ,{region}," for s in strings if f",{region}," in s][:1]
    return found


def test_dashboard_authorisation_matrix(make_service: Any, matrix_home: Path) -> None:
    svc = make_service(matrix_home, dashboard="default")
    tokens = {role: svc.user(f"{role}-pd", role, department="区科经委" if role == "owner" else None) for role in ROLES}
    lead_all = svc.user("lead-all", "leader", regions=("*",))
    clients = {who: signed_in(svc, who) for who in (*(f"{r}-pd" for r in tokens), "lead-all")}
    clients[ANONYMOUS] = TestClient(svc.app, raise_server_exceptions=False)
    auth = {"Authorization": f"Bearer {lead_all}"}
    data: dict[str, dict[str, Any]] = {}
    for region in (IN_SCOPE, OUT_OF_SCOPE):
        opened = svc.client.post("/api/v1/rounds", json={"scheme": "default_ahp", "period": "2024", "regions": [region]},
                                 headers=auth)  # fmt: skip
        assert opened.status_code == 201, opened.text
        rid = opened.json()["id"]
        data[region] = {part: {"status": 200, "body": svc.client.get(f"/api/v1/rounds/{rid}{tail}", headers=auth).json()}
                        for part, tail in (("round", ""), ("judgements", "/judgements"),
                                           ("owners", "/self-assessment"))}  # fmt: skip
    published = matrix_home / "published_tables"
    w = World(pl.read_parquet(published / "scenarios.parquet"), data, whatif_kpis(published))
    assert w.names(IN_SCOPE) and w.names(OUT_OF_SCOPE)
    assert clients["leader-pd"].get("/_dash-dependencies").status_code == 200
    dash_app = served_dash_app()

    def post(who: str, name: str, region: str) -> Any:
        client = clients[who if who in (ANONYMOUS, "lead-all") else f"{who}-pd"]
        if name.startswith("/"):  # a page: its content through Dash's routing callback
            address = PAGES[name][0](w, region)
            path, _, search = address.partition("?")
            values = {"_pages_location.pathname": path, "_pages_location.search": f"?{search}" if search else "",
                      "lang.value": "zh"}  # fmt: skip
            body = callback_body(dash_app, ROUTER, values, "_pages_location.pathname")
        else:
            call = CALLS[name]
            role = "leader" if who == "lead-all" else who
            body = callback_body(dash_app, name, call.values(w, role, region),
                                 call.changed.replace("{g}", region))  # fmt: skip
        headers = {"X-CSRFToken": client.cookies.get("_csrf_token", "")}
        return client.post("/_dash-update-component", json=body, headers=headers)

    failures = []
    for (kind, name), who, region, expected in cases(rows_of(lambda k: k[0] in ("PAGE", "CALLBACK"))):
        if who == ANONYMOUS and kind == "PAGE":
            page = clients[ANONYMOUS].get(PAGES[name][0](w, region), headers={"Accept": "text/html"},
                                          follow_redirects=False)  # fmt: skip
            got, text = page.status_code, page.headers.get("location", "")
            if got == 303 and not text.startswith("/login?next="):
                failures.append(f"anonymous {name}: redirected to {text}")
        else:
            response = post(who, name, region)
            got, text = response.status_code, response.text
        refused = kind == "CALLBACK" and got == 200 and any(r in s for s in answer_parts(text)[1] for r in REFUSALS)
        outcome: Expect = REFUSED if refused else got
        label = f"{who} {kind} {name} region={region}"
        if outcome != expected:
            failures.append(f"{label}: {outcome} != {expected} {text[:300]}")
            continue
        if who == ANONYMOUS or outcome != 200:
            continue  # a refusal names the regions of the file the caller sent
        echoes = kind == "CALLBACK" and CALLS[name].echoes
        shows = PAGES[name][1] if kind == "PAGE" else CALLS[name].shows
        if region == OUT_OF_SCOPE:
            leaked = region_rows(text, w, OUT_OF_SCOPE, echoes=echoes)
            if leaked:
                failures.append(f"{label}: Hongkou rows in the answer: {leaked[:5]}")
            if kind == "CALLBACK" and CALLS[name].absent and text != post(who, name, NOWHERE).text:
                failures.append(f"{label}: answers otherwise than for a region published nowhere {text[:300]}")
        elif shows and not region_rows(text, w, IN_SCOPE, echoes=echoes):
            failures.append(f"{label}: no Pudong row in the answer {text[:300]}")
    # the out-of-scope checks can fail: the same requests by an all-regions account show Hongkou rows
    for key in rows_of(lambda k: k[0] in ("PAGE", "CALLBACK")):
        shows = PAGES[key[1]][1] if key[0] == "PAGE" else CALLS[key[1]].shows
        if shows:
            echoes = key[0] == "CALLBACK" and CALLS[key[1]].echoes
            answer = post("lead-all", key[1], OUT_OF_SCOPE)
            if not region_rows(answer.text, w, OUT_OF_SCOPE, echoes=echoes):
                failures.append(f"an all-regions account's {key} shows no Hongkou row {answer.text[:300]}")
        absent = key[0] == "CALLBACK" and CALLS[key[1]].absent
        if absent and post("lead-all", key[1], OUT_OF_SCOPE).text == post("lead-all", key[1], NOWHERE).text:
            failures.append(f"an all-regions account's {key} answers as for a region published nowhere")
    # a confirmed upload is stored and audited only for the owner and the admin, only in scope
    with svc.store.unit() as session:
        stored = session.scalars(select(AuditEvent).where(AuditEvent.action == "ingest")).all()
    confirmed = [c for c in cases(rows_of(lambda k: k[1].endswith("confirm_upload"))) if c[3] == 200]
    assert sorted(e.actor for e in stored) == sorted(f"{c[1]}-pd" for c in confirmed) and len(confirmed) == 2
    assert all('"via": "dashboard"' in (e.after or "") for e in stored)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


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
