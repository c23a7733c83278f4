"""The owners' part of a round through the API: an owner sees its own department's scenarios and the metric
values the round will score, adds notes and evidence links per indicator, flags a disputed metric with a
reason the evaluators read; other departments, other roles, bad links and closed rounds are refused; audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from evaluation.assessment.engine import period_values
from service.rounds import inputs as frozen
from tests.service.conftest import bearer

DEPT = "区科经委"


def test_owner_self_assessment_disputes_and_their_limits(make_service: Any, module_home: Path) -> None:
    svc = make_service(module_home)
    lead, ev = svc.user("lead", "leader"), svc.user("ev", "evaluator")
    owner = svc.user("own", "owner", department=DEPT)
    other = svc.user("other-own", "owner", department="不存在的部门")
    rnd = svc.open_round(lead).json()
    rid = rnd["id"]

    # the owner sees exactly its department's scenarios of the round, with the frozen metric values
    stored = svc.stored_round(rid)
    data = frozen.unpack(stored.inputs)
    mine = sorted(data.scenarios.filter(pl.col("owner") == DEPT)["scenario_id"].to_list())
    assert mine and len(mine) < len(rnd["scenarios"])
    sheet = svc.client.get(f"/api/v1/rounds/{rid}/self-assessment", headers=bearer(owner)).json()
    assert sorted(x["scenario_id"] for x in sheet["items"]) == mine
    sid = mine[0]
    first = sheet["items"][0]
    scheme = frozen.thaw_scheme(stored.scheme_text, "default")
    metric = period_values(data.scenario_metrics, scheme, "2024").filter(pl.col("scenario_id") == first["scenario_id"])
    shown = {i["indicator_id"]: i["value"] for i in first["indicators"] if i["value"] is not None}
    assert shown and shown == pytest.approx(dict(zip(metric["indicator_id"], metric["value"], strict=True)))
    assert svc.client.get(f"/api/v1/rounds/{rid}/self-assessment", headers=bearer(other)).json()["items"] == []

    url = f"/api/v1/rounds/{rid}/self-assessment/{sid}/usage_cases"
    body = {"note": "用量含节假日高峰", "evidence": ["https://example.org/usage-2024.pdf"]}
    assert svc.client.put(url, json=body, headers=bearer(owner)).status_code == 200
    dispute = {**body, "disputed": True}
    r = svc.client.put(url, json=dispute, headers=bearer(owner))
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = svc.client.put(url, json={**body, "evidence": ["javascript:alert(1)"]}, headers=bearer(owner))
    assert r.status_code == 422 and "http(s)" in r.json()["detail"]
    ok = svc.client.put(url, json={**dispute, "dispute_reason": "2024 年统计口径变更，少计 3 个街镇"}, headers=bearer(owner))
    assert ok.status_code == 200, ok.text

    # refused: another department's scenario (403), another role (403), an unknown indicator (404)
    theirs = next(s for s in rnd["scenarios"] if s not in mine)
    r = svc.client.put(f"/api/v1/rounds/{rid}/self-assessment/{theirs}/usage_cases", json=body, headers=bearer(owner))
    assert r.status_code == 403
    assert svc.client.put(url, json=body, headers=bearer(ev)).status_code == 403
    assert svc.client.put(f"/api/v1/rounds/{rid}/self-assessment/{sid}/nowhere", json=body,
                          headers=bearer(owner)).status_code == 404

    # the evaluator reads the dispute and its reason
    seen = svc.client.get(f"/api/v1/rounds/{rid}/self-assessment", headers=bearer(ev)).json()["items"]
    cell = next(i for x in seen if x["scenario_id"] == sid for i in x["indicators"] if i["indicator_id"] == "usage_cases")
    assert cell["disputed"] and "口径" in cell["dispute_reason"] and cell["evidence"] == body["evidence"]
    assert cell["author"] == "own" and cell["note"] == body["note"]

    # a submitted round takes no more self-assessments (409); every write is in the audit with its actor
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev)).json()["state"] == "submitted"
    assert svc.client.put(url, json=body, headers=bearer(owner)).status_code == 409
    admin = svc.user("adm", "admin", regions=("*",))
    events = svc.client.get("/api/v1/audit", params={"round": rid}, headers=bearer(admin)).json()
    rows = events["items"] if isinstance(events, dict) else events
    mine_rows = [e for e in rows if e["action"] == "round.self_assessment"]
    assert [e["actor"] for e in mine_rows] == ["own", "own"]
    assert mine_rows[-1]["before"] is not None
