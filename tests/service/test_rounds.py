"""Assessment rounds end to end through the API, with real accounts on a real demo home."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import polars as pl

from service.rounds import core
from service.store.models import Round
from tests.service.conftest import DTSCOPE, bearer

Service = Any
SCHEME = "judged"


def rate_all(svc: Service, token: str, rid: int, scenarios: list[str], base: float, *, comment: str = "") -> None:
    for k, sid in enumerate(scenarios):
        body = {"scores": {"demand_fit": min(100.0, base + 2 * k % 30), "replicability": 1 + (k + int(base)) % 5},
                "comment": comment or None}
        r = svc.client.put(f"/api/v1/rounds/{rid}/judgements/{sid}", json=body, headers=bearer(token))
        assert r.status_code == 200, r.text


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and "Traceback" not in response.text
    return body


def test_a_pudong_round_from_opening_to_revision(make_service: Any, module_home: Path) -> None:
    svc = make_service(module_home)
    leader, admin = svc.user("lead-pd", "leader"), svc.user("admin-all", "admin", regions=("*",))
    ev1, ev2 = svc.user("ev-ana", "evaluator"), svc.user("ev-bo", "evaluator")
    ev_hk = svc.user("ev-hk", "evaluator", regions=("hongkou",))

    # an evaluator may not open a round; a leader of Pudong may, not one for Hongkou
    problem(svc.open_round(ev1, scheme=SCHEME), 403)
    problem(svc.open_round(leader, scheme=SCHEME, regions=("hongkou",)), 403)
    opened = svc.open_round(leader, scheme=SCHEME)
    assert opened.status_code == 201, opened.text
    rnd = opened.json()
    rid = rnd["id"]
    assert rnd["state"] == "open" and rnd["regions"] == ["pudong"] and rnd["version"] == 1
    assert {j["id"]: j["scale"] for j in rnd["judged_indicators"]} == {"demand_fit": "0-100", "replicability": "1-5"}
    assert rnd["judged_indicators"][1]["anchors"]["3"].startswith("同类街镇")
    scenarios = rnd["scenarios"]
    assert scenarios and all(s.startswith("PD-") for s in scenarios)

    # a Hongkou evaluator is refused; out of scale is refused; an unknown scenario is 404
    first = scenarios[0]
    problem(svc.client.put(f"/api/v1/rounds/{rid}/judgements/{first}", json={"scores": {"demand_fit": 70}},
                           headers=bearer(ev_hk)), 403)
    body = problem(svc.client.put(f"/api/v1/rounds/{rid}/judgements/{first}",
                                  json={"scores": {"demand_fit": 120}}, headers=bearer(ev1)), 422)
    assert "outside the scale 0-100" in body["detail"]
    problem(svc.client.put(f"/api/v1/rounds/{rid}/judgements/{first}",
                           json={"scores": {"replicability": 3.5}}, headers=bearer(ev1)), 422)
    problem(svc.client.put(f"/api/v1/rounds/{rid}/judgements/HK-NOPE-01",
                           json={"scores": {"demand_fit": 50}}, headers=bearer(ev1)), 404)
    problem(svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(leader)), 409)  # nothing submitted

    rate_all(svc, ev1, rid, scenarios, 60, comment="checked against the plan")
    rate_all(svc, ev2, rid, scenarios, 66)
    # ratings stay hidden from the other rater until it submits
    seen = svc.client.get(f"/api/v1/rounds/{rid}/judgements", headers=bearer(ev2)).json()["items"]
    assert {j["evaluator"] for j in seen} == {"ev-bo"}
    problem(svc.client.get(f"/api/v1/rounds/{rid}/scores", headers=bearer(ev2)), 409)

    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev1)).json()["state"] == "open"
    problem(svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev1)), 409)  # twice
    seen = svc.client.get(f"/api/v1/rounds/{rid}/judgements", headers=bearer(ev1)).json()["items"]
    assert {j["evaluator"] for j in seen} == {"ev-ana"}  # ev-bo has not submitted: still hidden from ev-ana
    submitted = svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev2)).json()
    assert submitted["state"] == "submitted"
    assert submitted["progress"]["ev-ana"] == {"rated": 2 * len(scenarios), "expected": 2 * len(scenarios),
                                               "submitted": True}

    agreement = svc.client.get(f"/api/v1/rounds/{rid}/agreement", headers=bearer(leader)).json()["items"]
    assert [a["indicator_id"] for a in agreement] == ["demand_fit", "replicability"]
    assert agreement[0]["raters"] == ["ev-ana", "ev-bo"] and agreement[0]["icc_2_k"] is not None

    before = svc.client.get(f"/api/v1/rounds/{rid}/scores", headers=bearer(leader)).json()
    problem(svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(ev1)), 403)
    approved = svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(leader)).json()
    assert approved["state"] == "approved" and approved["approved_by"] == "lead-pd"
    after = svc.client.get(f"/api/v1/rounds/{rid}/scores", headers=bearer(ev1)).json()
    assert after["items"] == before["items"] and after["scores_sha256"] == approved["scores_sha256"]

    # a later rating is refused, so is a second approval or a return
    problem(svc.client.put(f"/api/v1/rounds/{rid}/judgements/{first}", json={"scores": {"demand_fit": 10}},
                           headers=bearer(ev1)), 409)
    problem(svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(leader)), 409)
    problem(svc.client.post(f"/api/v1/rounds/{rid}/return", json={"reason": "too late"}, headers=bearer(leader)), 409)

    # a revision reopens a new version; the approved one still reads the same
    problem(svc.client.post(f"/api/v1/rounds/{rid}/revisions", json={"reason": "x"}, headers=bearer(leader)), 422)
    rev = svc.client.post(f"/api/v1/rounds/{rid}/revisions", json={"reason": "ev-ana mis-keyed PD scores"},
                          headers=bearer(leader))
    assert rev.status_code == 201, rev.text
    new = rev.json()
    assert (new["state"], new["version"], new["revision_of"], new["family_id"]) == ("open", 2, rid, rid)
    assert new["inputs_sha256"] == approved["inputs_sha256"] and new["scheme_sha256"] == approved["scheme_sha256"]
    fixed = svc.client.put(f"/api/v1/rounds/{new['id']}/judgements/{first}", json={"scores": {"demand_fit": 5}},
                           headers=bearer(ev1))
    assert fixed.status_code == 200 and fixed.json()["scores"]["demand_fit"] == 5
    again = svc.client.get(f"/api/v1/rounds/{rid}/scores", headers=bearer(leader)).json()
    assert again == after
    assert svc.client.get(f"/api/v1/rounds/{rid}", headers=bearer(leader)).json()["state"] == "approved"

    # the audit lists every step with its actor
    problem(svc.client.get("/api/v1/audit", params={"round": rid}, headers=bearer(leader)), 403)
    events = svc.client.get("/api/v1/audit", params={"round": rid, "limit": 1000}, headers=bearer(admin)).json()
    steps = [(e["action"], e["actor"]) for e in events["items"]]
    assert steps[0] == ("round.open", "lead-pd")
    assert steps.count(("round.judgement", "ev-ana")) == len(scenarios)
    assert steps.count(("round.judgement", "ev-bo")) == len(scenarios)
    tail = [s for s in steps if s[0] not in ("round.judgement", "round.rectification.open")]
    assert tail == [("round.open", "lead-pd"), ("round.submit", "ev-ana"), ("round.submit", "ev-bo"),
                    ("round.approve", "lead-pd"), ("round.revise", "lead-pd")]
    # the approval opened the lowest grade's rectification items right after it (tests/service/test_round_results)
    approve_at = steps.index(("round.approve", "lead-pd"))
    made = [s for s in steps if s[0] == "round.rectification.open"]
    assert steps[approve_at + 1: approve_at + 1 + len(made)] == made
    assert all(e["address"] for e in events["items"])
    judged = next(e for e in events["items"] if e["action"] == "round.judgement")
    assert json.loads(judged["after"])["comment"] == "checked against the plan"
    new_events = svc.client.get("/api/v1/audit", params={"round": new["id"]}, headers=bearer(admin)).json()["items"]
    assert [(e["action"], e["actor"]) for e in new_events] == [("round.open_revision", "lead-pd"),
                                                               ("round.judgement", "ev-ana")]
    assert json.loads(new_events[1]["before"])["scores"]["demand_fit"] == 60


def test_returned_round_reopens_with_a_reason(make_service: Any, module_home: Path) -> None:
    svc = make_service(module_home)
    leader, ev = svc.user("lead", "leader"), svc.user("ev", "evaluator")
    rid = svc.open_round(leader).json()["id"]
    assert svc.client.get(f"/api/v1/rounds/{rid}", headers=bearer(ev)).json()["judged_indicators"] == []
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev)).json()["state"] == "submitted"
    problem(svc.client.post(f"/api/v1/rounds/{rid}/return", json={}, headers=bearer(leader)), 422)
    back = svc.client.post(f"/api/v1/rounds/{rid}/return", json={"reason": "check the funds data"},
                           headers=bearer(leader)).json()
    assert back["state"] == "returned" and back["returned_reason"] == "check the funds data"
    assert back["progress"] == {}  # submissions reopened
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev)).json()["state"] == "submitted"


def test_approved_scores_reproduce_bit_for_bit_and_ignore_later_data(make_service: Any, module_home: Path,
                                                                     copy_home: Any, tmp_path: Path) -> None:
    home = copy_home(module_home, tmp_path / "home")
    svc = make_service(home)
    leader, ev1, ev2 = svc.user("lead", "leader"), svc.user("e1", "evaluator"), svc.user("e2", "evaluator")
    rnd = svc.open_round(leader, scheme=SCHEME).json()
    rid = rnd["id"]
    rate_all(svc, ev1, rid, rnd["scenarios"], 50)
    rate_all(svc, ev2, rid, rnd["scenarios"], 58)
    for t in (ev1, ev2):
        svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(t))
    approved = svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(leader)).json()
    stored = svc.client.get(f"/api/v1/rounds/{rid}/scores", headers=bearer(leader)).json()

    # recomputed from the frozen inputs: the same bytes
    with svc.store.unit() as s:
        r = s.get(Round, rid)
        assert r is not None
        recomputed = core.compute_scores(s, r)
    assert core.canonical_json(recomputed) == r.scores
    from service.rounds.scoring import scores_digest

    assert scores_digest(recomputed) == approved["scores_sha256"]

    # `dtscope score --round ID` prints the same document the API answers
    env = {**os.environ, "DTSCOPE_DATABASE_URL": svc.settings.database_url}
    done = subprocess.run([DTSCOPE, "score", "--round", str(rid), "--home", str(home)], capture_output=True,
                          text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == stored
    unknown = subprocess.run([DTSCOPE, "score", "--round", "9999", "--home", str(home)], capture_output=True,
                             text=True, timeout=300, check=False, env=env)
    assert unknown.returncode != 0 and "no round 9999" in unknown.stdout + unknown.stderr

    # a changed metric lands in the warehouse after approval
    from pipelines.io.warehouse import Warehouse
    from pipelines.settings import resolve_settings

    settings = resolve_settings(home)
    wh = Warehouse(settings.warehouse_path, lock_path=settings.lock_path)
    metrics = wh.table("scenario_metrics")
    target = rnd["scenarios"][0]
    changed = metrics.with_columns(
        value=pl.when((pl.col("scenario_id") == target) & (pl.col("indicator_id") == "coverage_share"))
        .then(pl.col("value") * 0.5).otherwise(pl.col("value"))
    )
    assert wh.replace_reference("scenario_metrics", changed)

    assert svc.client.get(f"/api/v1/rounds/{rid}/scores", headers=bearer(leader)).json() == stored
    with svc.store.unit() as s:
        r = s.get(Round, rid)
        assert r is not None and core.canonical_json(core.compute_scores(s, r)) == r.scores

    fresh = svc.open_round(leader, scheme=SCHEME).json()
    assert fresh["inputs_sha256"] != rnd["inputs_sha256"]
    old_total = next(x["total"] for x in stored["items"] if x["scenario_id"] == target)
    new_scores = svc.client.get(f"/api/v1/rounds/{fresh['id']}/scores", headers=bearer(leader)).json()["items"]
    new_total = next(x["total"] for x in new_scores if x["scenario_id"] == target)
    assert new_total < old_total  # the new round sees the halved coverage
