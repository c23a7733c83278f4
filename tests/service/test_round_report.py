"""The round report rendered: HTML (zh/en, autoescaped) and Excel (every part, text cells neutralised), through
the API, with a hostile scenario name stored in the round's frozen inputs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from service.rounds import inputs as frozen
from service.store.models import Round
from tests.service.conftest import bearer

HOSTILE = "<img src=x onerror=alert(1)>"
FORMULA = "=HYPERLINK(\"http://evil\",\"x\")"


def test_report_html_and_xlsx(make_service: Any, module_home: Path) -> None:
    svc = make_service(module_home)
    lead, ev = svc.user("lead", "leader"), svc.user("ev", "evaluator")
    owner = svc.user("own", "owner", department="区科经委")
    rid = svc.open_round(lead).json()["id"]
    # a hostile name stored for the failing scenario PD-ECON-07 (zh) and a formula for its English name
    with svc.store.unit() as s:
        r = s.get(Round, rid)
        assert r is not None
        data = frozen.unpack(r.inputs)
        names = data.scenarios.with_columns(
            name_zh=pl.when(pl.col("scenario_id") == "PD-ECON-07").then(pl.lit(HOSTILE)).otherwise(pl.col("name_zh")),
            name_en=pl.when(pl.col("scenario_id") == "PD-ECON-07").then(pl.lit(FORMULA)).otherwise(pl.col("name_en")),
        )
        blob = frozen.pack(frozen.Inputs(names, data.scenario_metrics, data.street_outcomes))
        r.inputs, r.inputs_sha256 = blob, frozen.sha256(blob)
    assert svc.client.post(f"/api/v1/rounds/{rid}/submit", headers=bearer(ev)).status_code == 200
    assert svc.client.post(f"/api/v1/rounds/{rid}/approve", headers=bearer(lead)).status_code == 200
    note = "@SUM(A1) <script>alert(2)</script>"
    assert svc.client.put(f"/api/v1/rounds/{rid}/rectifications/PD-ECON-07", json={"status": "done", "note": note},
                          headers=bearer(owner)).status_code == 200
    doc = svc.client.get(f"/api/v1/rounds/{rid}/report", headers=bearer(lead)).json()
    assert doc["scheme_version"] == "2026.1" and doc["round"]["approved_by"] == "lead"
    assert [x["scenario_id"] for x in doc["rectifications"]] == sorted(
        s["scenario_id"] for s in doc["scores"] if s["grade_id"] == "fail")

    # HTML, zh: the name is text, never markup; the parts are all there
    page = svc.client.get(f"/api/v1/rounds/{rid}/report", params={"format": "html"}, headers=bearer(lead))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    body = page.text
    assert HOSTILE not in body and "<script>" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "&lt;script&gt;alert(2)&lt;/script&gt;" in body
    for text in ("评估轮次报告", "方案版本", "2026.1", doc["round"]["scheme_sha256"], "审定",
                 "lead · " + doc["round"]["approved_at"], "整改事项", "不合格", "排名区间"):
        assert text in body, text
    en = svc.client.get(f"/api/v1/rounds/{rid}/report", params={"format": "html", "lang": "en"}, headers=bearer(lead))
    assert "Assessment round report" in en.text and "Rectification items" in en.text and "Fail" in en.text
    assert FORMULA.replace('"', "&#34;") in en.text  # the English name, escaped
    assert svc.client.get(f"/api/v1/rounds/{rid}/report", params={"format": "pdf"},
                          headers=bearer(lead)).status_code == 422

    # Excel: every part as a sheet, text cells neutralised, numbers as numbers
    x = svc.client.get(f"/api/v1/rounds/{rid}/report", params={"format": "xlsx"}, headers=bearer(lead))
    assert x.status_code == 200 and "spreadsheetml" in x.headers["content-type"]
    assert "attachment" in x.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    assert book.sheetnames == ["轮次", "指标权重", "AHP", "各场景得分", "评分一致性", "整改事项", "标杆场景"]
    meta = {row[0].value: row[1].value for row in book["轮次"].iter_rows(min_row=2)}
    assert meta["方案版本"] == "2026.1" and meta["方案 SHA-256"] == doc["round"]["scheme_sha256"]
    assert meta["审定人"] == "lead" and meta["审定时间"] == doc["round"]["approved_at"]
    scores = list(book["各场景得分"].iter_rows(values_only=True))
    header, rows = scores[0], {r[0]: r for r in scores[1:]}
    assert len(rows) == len(doc["scores"])
    hostile = rows["PD-ECON-07"]
    assert hostile[header.index("name")] == HOSTILE  # text in a cell (not a formula: it does not start with =)
    by_id = {s["scenario_id"]: s for s in doc["scores"]}
    assert hostile[header.index("total")] == pytest.approx(by_id["PD-ECON-07"]["total"])
    assert hostile[header.index("rank_lo")] == by_id["PD-ECON-07"]["rank_lo"]
    rect = list(book["整改事项"].iter_rows(values_only=True))
    rh, rrows = rect[0], {r[0]: r for r in rect[1:]}
    assert rrows["PD-ECON-07"][rh.index("note")] == "'" + note  # @ neutralised
    en_book = openpyxl.load_workbook(io.BytesIO(svc.client.get(
        f"/api/v1/rounds/{rid}/report", params={"format": "xlsx", "lang": "en"}, headers=bearer(lead)).content))
    cells = [c for ws in en_book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    en_scores = list(en_book["Scores per scenario"].iter_rows(values_only=True))
    named = {r[0]: r[en_scores[0].index("name")] for r in en_scores[1:]}
    assert named["PD-ECON-07"] == "'" + FORMULA
    # the round page's links (dashboard.rounds_view.report_urls) work with the browser's session cookie
    from dashboard.rounds_view import report_urls

    assert svc.login("lead").status_code == 303
    urls = report_urls(rid, "en")
    linked = svc.client.get(urls["html"])
    assert linked.status_code == 200 and "Assessment round report" in linked.text
    assert svc.client.get(urls["xlsx"]).content[:2] == b"PK"
    # an owner reads the report of a round in scope; the rectifications it lists are its department's
    own = svc.client.get(f"/api/v1/rounds/{rid}/report", headers=bearer(owner)).json()
    assert [x["scenario_id"] for x in own["rectifications"]] == ["PD-ECON-07"]
