"""Results applied through the API: the lowest grade's rectification items made at approval (same
transaction, audited), updated by the department's owner only, shown beside the next round's scores; the 标杆
list; the funds view per department."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from evaluation.assessment.engine import period_values
from service.rounds import inputs as frozen
from service.store.models import Rectification, Round
from tests.service.conftest import bearer

DEPT = "区科经委"


def approved_round(svc: Any, lead: str, ev: str) -> int:
    r = svc.open_round(lead)
    assert r.status_code == 201, r.text
    rid: int = r.json()["id"]
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev)).json()["state"] == "submitted"
    done = svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(lead))
    assert done.status_code == 200 and done.json()["state"] == "approved", done.text
    return rid


def test_rectifications_benchmarks_and_funds(make_service: Any, module_home: Path) -> None:
    svc = make_service(module_home)
    lead, ev = svc.user("lead", "leader"), svc.user("ev", "evaluator")
    owner, other = svc.user("own", "owner", department=DEPT), svc.user("own-fin", "owner", department="区金融局")
    admin = svc.user("adm", "admin", regions=("*",))
    rid = approved_round(svc, lead, ev)
    rnd = svc.client.get(f"/api/v1/rounds/{rid}", headers=bearer(lead)).json()
    scores = svc.client.get(f"/api/v1/rounds/{rid}/scores", headers=bearer(lead)).json()["items"]
    failing = sorted(s["scenario_id"] for s in scores if s["grade_id"] == "fail")
    assert failing and len(failing) < len(scores)
    assert all(s["previous_rectification"] is None for s in scores)  # no earlier round of Pudong × default

    # one item per scenario graded 不合格, owned by its department, due 90 days (the scheme's setting) after approval
    items = svc.client.get(f"/api/v1/rounds/{rid}/rectifications", headers=bearer(lead)).json()["items"]
    assert [i["scenario_id"] for i in items] == failing
    due = (date.fromisoformat(rnd["approved_at"][:10]) + timedelta(days=90)).isoformat()
    approved = svc.stored_round(rid)
    data, text = frozen.unpack(approved.inputs), approved.scheme_text
    depts = dict(zip(data.scenarios["scenario_id"], data.scenarios["owner"], strict=True))
    totals = {s["scenario_id"]: s["total"] for s in scores}
    for i in items:
        assert i["department"] == depts[i["scenario_id"]] and i["due_date"] == due and i["status"] == "open"
        assert i["total"] == totals[i["scenario_id"]] and i["grade"]["zh"] == "不合格" and not i["overdue"]
    audit = svc.client.get("/api/v1/audit", params={"round": rid}, headers=bearer(admin)).json()
    events = audit["items"] if isinstance(audit, dict) else audit
    opened = [e for e in events if e["action"] == "round.rectification.open"]
    assert sorted(e["target"].rsplit("/", 1)[1] for e in opened) == failing
    assert {e["actor"] for e in opened} == {"lead"}

    # the owner sees its department's items only and updates them; other departments, roles and scenarios refused
    mine = svc.client.get(f"/api/v1/rounds/{rid}/rectifications", headers=bearer(owner)).json()["items"]
    assert [i["scenario_id"] for i in mine] == [s for s in failing if depts[s] == DEPT] == ["PD-ECON-07"]
    url = f"/api/v1/rounds/{rid}/rectifications/PD-ECON-07"
    body = {"status": "done", "note": "已更换数据接口，办件量恢复"}
    done = svc.client.put(url, json=body, headers=bearer(owner))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["updated_by"] == "own"
    assert svc.client.put(url, json=body, headers=bearer(other)).status_code == 403
    assert svc.client.put(url, json=body, headers=bearer(lead)).status_code == 403
    assert svc.client.put(url, json={"status": "closed"}, headers=bearer(owner)).status_code == 422
    passing = next(s["scenario_id"] for s in scores if s["grade_id"] != "fail" and depts[s["scenario_id"]] == DEPT)
    assert svc.client.put(f"/api/v1/rounds/{rid}/rectifications/{passing}", json=body,
                          headers=bearer(owner)).status_code == 404
    fin = next(s for s in failing if depts[s] == "区金融局")
    assert svc.client.put(f"/api/v1/rounds/{rid}/rectifications/{fin}", json={"status": "open", "note": "进行中"},
                          headers=bearer(other)).status_code == 200
    audit = svc.client.get("/api/v1/audit", params={"round": rid}, headers=bearer(admin)).json()
    events = audit["items"] if isinstance(audit, dict) else audit
    updates = [e for e in events if e["action"] == "round.rectification"]
    assert [(e["actor"], e["target"].rsplit("/", 1)[1]) for e in updates] == [("own", "PD-ECON-07"), ("own-fin", fin)]

    # the next Pudong × default round shows each scenario's previous rectification beside its new score
    rid2 = svc.open_round(lead).json()["id"]
    assert svc.client.post(f"/api/v1/rounds/{rid2}/submit", headers=bearer(ev)).status_code == 200
    new = {s["scenario_id"]: s for s in svc.client.get(f"/api/v1/rounds/{rid2}/scores", headers=bearer(lead)).json()["items"]}
    prev = new["PD-ECON-07"]["previous_rectification"]
    assert prev["round"] == rid and prev["status"] == "done" and prev["note"] == body["note"]
    assert new[fin]["previous_rectification"]["note"] == "进行中"
    assert new[passing]["previous_rectification"] is None and "total" in new["PD-ECON-07"]
    # the first round's approved scores are unchanged by all this
    assert svc.client.get(f"/api/v1/rounds/{rid}", headers=bearer(lead)).json()["scores_sha256"] == rnd["scores_sha256"]

    # 标杆: exactly the scenarios the stored scores flag (none in the demo; one flagged by hand)
    assert svc.client.get(f"/api/v1/rounds/{rid}/benchmarks", headers=bearer(lead)).json()["items"] == []
    with svc.store.unit() as s:
        r = s.get(Round, rid)
        assert r is not None and r.scores is not None
        stored = json.loads(r.scores)
        best = max(stored, key=lambda x: x["total"] or 0)
        best["benchmark"] = True
        r.scores = json.dumps(stored)
    marks = svc.client.get(f"/api/v1/rounds/{rid}/benchmarks", headers=bearer(ev)).json()["items"]
    assert [(m["scenario_id"], m["total"], m["grade_id"]) for m in marks] == [(best["scenario_id"], best["total"],
                                                                             best["grade_id"])]
    assert marks[0]["name_zh"] == data.scenarios.filter(pl.col("scenario_id") == best["scenario_id"])["name_zh"][0]

    # funds: per department, the frozen budgets, the cost per case over the period, the grade
    funds = svc.client.get(f"/api/v1/rounds/{rid}/funds", headers=bearer(lead)).json()["items"]
    assert sorted(f["department"] for f in funds) == sorted(set(depts.values()))
    assert sum(f["budget"] for f in funds) == pytest.approx(data.scenarios["budget"].sum())
    scheme = frozen.thaw_scheme(text, "default")
    cost = period_values(data.scenario_metrics, scheme, "2024").filter(
        (pl.col("indicator_id") == "cost_per_case") & (pl.col("scenario_id") == "PD-ECON-07"))["value"][0]
    row = next(x for f in funds for x in f["scenarios"] if x["scenario_id"] == "PD-ECON-07")
    assert row["cost_per_case"] == pytest.approx(cost) and row["grade_id"] == "fail"
    kj = next(f for f in funds if f["department"] == DEPT)
    assert kj["budget_by_grade"]["fail"] == pytest.approx(row["budget"])
    own_funds = svc.client.get(f"/api/v1/rounds/{rid}/funds", headers=bearer(owner)).json()["items"]
    assert [f["department"] for f in own_funds] == [DEPT] and own_funds[0] == kj


def test_rectifications_are_made_in_the_approvals_transaction(
    make_service: Any, module_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = make_service(module_home)
    lead, ev = svc.user("lead", "leader"), svc.user("ev", "evaluator")
    rid = svc.open_round(lead).json()["id"]
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev)).status_code == 200
    from service.rounds import results

    real = results.open_rectifications

    def half(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # the items are added, then the approval fails
        raise RuntimeError("store failure after the items")

    monkeypatch.setattr(results, "open_rectifications", half)
    assert svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(lead)).status_code == 500
    with svc.store.unit() as s:
        r = s.get(Round, rid)
        assert r is not None and r.state == "submitted" and r.scores is None
        assert s.query(Rectification).filter(Rectification.round_id == rid).count() == 0
    monkeypatch.setattr(results, "open_rectifications", real)
    assert svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(lead)).status_code == 200
    with svc.store.unit() as s:
        assert s.query(Rectification).filter(Rectification.round_id == rid).count() > 0
