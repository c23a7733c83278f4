"""The rounds' rows of the authorisation table (:data:`tests.service.test_authorization_matrix.EXPECTED`), run
case by case from its one generator (:func:`~tests.service.test_authorization_matrix.cases`) against rounds in
the state each route needs: a Pudong round (in scope) and a Hongkou round (out of scope)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.principal import ROLES
from tests.service.test_authorization_matrix import IN_SCOPE, OUT_OF_SCOPE, cases, rows_of

Service = Any
SAATY_3 = [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]]


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _open(svc: Service, token: str, region: str, scheme: str = "default") -> int:
    r = svc.client.post("/api/v1/rounds", json={"scheme": scheme, "period": "2024", "regions": [region]},
                        headers=_bearer(token))
    assert r.status_code == 201, r.text
    rid: int = r.json()["id"]
    return rid


def _prepare(svc: Service, tok: dict[str, str], path: str, region: str) -> int:
    """A round of ``region`` in the state the route needs (opened by an all-regions leader)."""
    lead = tok["lead-all"]
    scheme = "judged" if "/judgements/" in path else "default_ahp" if "/ahp/" in path else "default"
    rid = _open(svc, lead, region, scheme)
    ev = tok[f"ev-{region}"]
    approved = path.endswith(("/rectifications", "/rectifications/{scenario_id}", "/benchmarks", "/funds"))
    if path.endswith(("/approve", "/return", "/revisions")) or path.endswith(("/scores", "/report", "/agreement", "/ahp")) \
            or approved:
        assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=_bearer(ev)).json()["state"] == "submitted"
    if path.endswith("/revisions") or approved:
        assert svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=_bearer(lead)).status_code == 200
    return rid


def _call(svc: Service, method: str, path: str, rid: int, region: str, token: str | None) -> Any:
    url = path.replace("{round_id}", str(rid)).replace("{node}", "demand").replace("{indicator_id}", "usage_cases")
    if "/rectifications/" in url:  # graded 不合格 in the demo's Pudong 2024 round; its department is the owner's
        url = url.replace("{scenario_id}", "PD-ECON-07" if region == IN_SCOPE else "HK-ECON-02")
    elif "{scenario_id}" in url:
        url = url.replace("{scenario_id}", "PD-ECON-01" if region == IN_SCOPE else "HK-ECON-01")
    headers = _bearer(token)
    if method == "GET":
        return svc.client.get(url, headers=headers)
    if method == "PUT":
        body = ({"matrix": SAATY_3} if "/ahp/" in url else
                {"note": "matrix test", "evidence": ["https://example.org/e.pdf"]} if "/self-assessment/" in url
                else {"status": "done", "note": "matrix test"} if "/rectifications/" in url
                else {"scores": {"demand_fit": 70}})
        return svc.client.put(url, json=body, headers=headers)
    if url == "/api/v1/rounds":
        return svc.client.post(url, json={"scheme": "default", "period": "2024", "regions": [region]}, headers=headers)
    reason = {"reason": "matrix test"} if url.endswith(("/return", "/revisions")) else None
    return svc.client.post(url, json=reason, headers=headers)


@pytest.fixture(scope="module")
def rounds_matrix_home(demo_home: Path, tmp_path_factory: pytest.TempPathFactory, copy_home: Any) -> Path:
    return copy_home(demo_home, tmp_path_factory.mktemp("rounds-matrix") / "home")


def test_rounds_authorisation_matrix(make_service: Any, rounds_matrix_home: Path) -> None:
    svc = make_service(rounds_matrix_home)
    tok: dict[str, str] = {role: svc.user(f"{role}-pd", role, department="区科经委" if role == "owner" else None)
                           for role in ROLES}  # fmt: skip
    tok["lead-all"] = svc.user("lead-all", "leader", regions=("*",))
    tok[f"ev-{IN_SCOPE}"] = svc.user("ev-helper-pd", "evaluator")
    tok[f"ev-{OUT_OF_SCOPE}"] = svc.user("ev-helper-hk", "evaluator", regions=(OUT_OF_SCOPE,))
    rows = rows_of(lambda k: k[1].startswith("/api/v1/rounds"))
    assert len(rows) == 20
    rounds: dict[tuple[str, str], dict[str, int]] = {}
    failures = []
    for (method, path), who, region, expected in cases(rows):
        if (method, path) not in rounds:  # a Pudong and a Hongkou round in the state the route needs
            rounds[method, path] = {g: _prepare(svc, tok, path, g) for g in (IN_SCOPE, OUT_OF_SCOPE)}
        response = _call(svc, method, path, rounds[method, path][region], region, tok.get(who))
        if response.status_code != expected:
            failures.append(f"{who} {method} {path} {region}: {response.status_code} != {expected} "
                            f"{response.text[:200]}")
        elif response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    listed = svc.client.get("/api/v1/rounds", headers=_bearer(tok["leader"])).json()
    assert listed and {tuple(r["regions"]) for r in listed} == {(IN_SCOPE,)}
    assert not failures, "\n".join(failures)
