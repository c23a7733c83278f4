"""Experts' AHP judgements in a round: CR and the most inconsistent judgement answered on save, an
inconsistent matrix blocks submission, submitted experts pooled by geometric mean into the round's weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.service.conftest import bearer

Service = Any
# Saaty's consistent 3 × 3 example: weights 4 : 2 : 1 → every a[i][j] = w_i / w_j, CR 0.
CONSISTENT_3 = [[1, 2, 4], ["1/2", 1, 2], ["1/4", "1/2", 1]]
# A cyclic matrix: A ≫ B, B ≫ C, C ≫ A — as inconsistent as a 3 × 3 gets.
CYCLIC_3 = [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]


def ratio_matrix(weights: list[float]) -> list[list[float]]:
    w = np.array(weights)
    m: list[list[float]] = (w[:, None] / w[None, :]).tolist()
    return m


def test_ahp_cr_worst_judgement_submission_and_pooling(make_service: Any, module_home: Path) -> None:
    svc = make_service(module_home)
    leader, ev1, ev2 = svc.user("lead", "leader"), svc.user("e1", "evaluator"), svc.user("e2", "evaluator")
    rnd = svc.open_round(leader, scheme="default_ahp").json()
    rid, nodes = rnd["id"], rnd["ahp_nodes"]
    assert nodes["demand"] == ["usage_cases", "coverage_share", "active_users"]

    ok = svc.client.put(f"/api/v1/rounds/{rid}/ahp/demand", json={"matrix": CONSISTENT_3}, headers=bearer(ev1))
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["cr"] == pytest.approx(0.0, abs=1e-9) and body["consistent"]
    assert [body["weights"][k] for k in nodes["demand"]] == pytest.approx([4 / 7, 2 / 7, 1 / 7])

    bad = svc.client.put(f"/api/v1/rounds/{rid}/ahp/demand", json={"matrix": CYCLIC_3}, headers=bearer(ev1)).json()
    assert bad["cr"] > bad["limit"] == 0.1 and not bad["consistent"]
    worst = bad["most_inconsistent"]
    assert worst is not None and {worst["row"], worst["column"]} <= set(nodes["demand"])

    not_reciprocal = [[1, 2, 4], [2, 1, 2], ["1/4", "1/2", 1]]
    r = svc.client.put(f"/api/v1/rounds/{rid}/ahp/demand", json={"matrix": not_reciprocal}, headers=bearer(ev1))
    assert r.status_code == 422 and "reciprocal" in r.json()["detail"]
    assert svc.client.put(f"/api/v1/rounds/{rid}/ahp/nowhere", json={"matrix": CONSISTENT_3},
                          headers=bearer(ev1)).status_code == 404

    # every other node filled consistently; the cyclic demand matrix still blocks the submission
    for node, order in nodes.items():
        if node != "demand":
            m = ratio_matrix([float(len(order) - i) for i in range(len(order))])
            assert svc.client.put(f"/api/v1/rounds/{rid}/ahp/{node}", json={"matrix": m},
                                  headers=bearer(ev1)).status_code == 200
    refused = svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev1))
    assert refused.status_code == 422 and "demand" in refused.json()["detail"]
    svc.client.put(f"/api/v1/rounds/{rid}/ahp/demand", json={"matrix": CONSISTENT_3}, headers=bearer(ev1))
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev1)).status_code == 200

    # a second expert judges demand 1 : 2 : 4 the other way round; pooled by geometric mean → equal weights
    for node, order in nodes.items():
        w = [1.0, 2.0, 4.0] if node == "demand" else [float(len(order) - i) for i in range(len(order))]
        svc.client.put(f"/api/v1/rounds/{rid}/ahp/{node}", json={"matrix": ratio_matrix(w)}, headers=bearer(ev2))
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev2)).json()["state"] == "submitted"
    pooled = svc.client.get(f"/api/v1/rounds/{rid}/ahp", headers=bearer(leader)).json()["nodes"]
    demand = next(n for n in pooled if n["node"] == "demand")
    assert demand["experts"] == {"e1": pytest.approx(0.0, abs=1e-9), "e2": pytest.approx(0.0, abs=1e-9)}
    assert list(demand["weights"].values()) == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    report = svc.client.get(f"/api/v1/rounds/{rid}/report", headers=bearer(leader)).json()
    assert report["ahp"] == pooled and report["scores"]
