"""The round report rendered (issue 15, item 7): one HTML page (zh/en) and an Excel workbook of the JSON
document ``GET /api/v1/rounds/{id}/report`` answers.

The HTML goes through a Jinja2 environment with autoescape on (``service/templates/round_report.html``), so
stored text (scenario names, notes, reasons) is shown as text. Every text cell of the workbook passes
through :func:`pipelines.io.catalog.neutralise_formulas` (a leading ``= + - @`` gets an apostrophe) and the
workbook itself is told never to turn strings into formulas or links; numbers stay numbers.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

import polars as pl
import xlsxwriter
from jinja2 import Environment, FileSystemLoader

from pipelines.io.catalog import neutralise_formulas

Lang = Literal["zh", "en"]
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "评估轮次报告", "round": "轮次", "scheme": "评估方案", "scheme_version": "方案版本",
        "scheme_sha256": "方案 SHA-256", "period": "考核期", "regions": "区域", "state": "状态", "version": "版本",
        "vintage": "数据版本", "inputs_sha256": "输入 SHA-256", "created": "开启", "approved": "审定",
        "approved_by": "审定人", "approved_at": "审定时间", "not_approved": "尚未审定", "scores_sha256": "得分 SHA-256",
        "weights": "指标权重", "indicator": "指标", "weight": "权重", "ahp": "层次分析法（专家一致性比率）",
        "node": "节点", "expert": "专家", "cr": "一致性比率 CR", "pooled_cr": "合并 CR",
        "scores": "各场景得分", "scenario": "场景", "name": "名称", "region": "区域", "total": "总分",
        "grade": "等级", "rank": "排名", "rank_interval": "排名区间", "benchmark": "标杆", "status": "状态",
        "previous": "上一轮整改", "agreement": "评分一致性", "raters": "评分人", "flagged": "分歧单元",
        "rectifications": "整改事项", "department": "责任部门", "due_date": "整改期限", "note": "说明",
        "benchmarks": "标杆场景", "none": "无", "yes": "是", "language": "English", "lang_other": "en",
        "download_xlsx": "下载 Excel", "reason": "修订原因",
    },
    "en": {
        "title": "Assessment round report", "round": "Round", "scheme": "Scheme", "scheme_version": "Scheme version",
        "scheme_sha256": "Scheme SHA-256", "period": "Period", "regions": "Regions", "state": "State",
        "version": "Version", "vintage": "Data vintage", "inputs_sha256": "Inputs SHA-256", "created": "Opened",
        "approved": "Approved", "approved_by": "Approved by", "approved_at": "Approved at",
        "not_approved": "not approved yet", "scores_sha256": "Scores SHA-256", "weights": "Indicator weights",
        "indicator": "Indicator", "weight": "Weight", "ahp": "AHP (experts' consistency ratios)", "node": "Node",
        "expert": "Expert", "cr": "Consistency ratio", "pooled_cr": "Pooled CR", "scores": "Scores per scenario",
        "scenario": "Scenario", "name": "Name", "region": "Region", "total": "Total", "grade": "Grade",
        "rank": "Rank", "rank_interval": "Rank interval", "benchmark": "Benchmark", "status": "Status",
        "previous": "Previous rectification", "agreement": "Rater agreement", "raters": "Raters",
        "flagged": "Disputed cells", "rectifications": "Rectification items", "department": "Department",
        "due_date": "Due", "note": "Note", "benchmarks": "Benchmark scenarios", "none": "none", "yes": "yes",
        "language": "中文", "lang_other": "zh", "download_xlsx": "Download Excel", "reason": "Revision reason",
    },
}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _name(item: dict[str, Any], lang: Lang) -> Any:
    return item.get(f"name_{lang}") or item.get("name_zh") or item.get("name_en")


def _grade(doc: dict[str, Any], grade_id: Any, lang: Lang) -> Any:
    label = doc.get("grades", {}).get(grade_id or "")
    return label[lang] if label else grade_id


def html(doc: dict[str, Any], lang: Lang) -> str:
    """The report page (autoescaped)."""
    return _env.get_template("round_report.html").render(
        doc=doc, t=LABELS[lang], lang=lang, name=lambda x: _name(x, lang), grade=lambda g: _grade(doc, g, lang),
    )


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pl.DataFrame:
    """Rows as a frame with text for text and numbers for numbers (a column of mixed types becomes text)."""
    data: dict[str, list[Any]] = {c: [r.get(c) for r in rows] for c in columns}
    series = []
    for c, values in data.items():
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            series.append(pl.Series(c, [None if v is None else float(v) for v in values], dtype=pl.Float64))
        else:
            series.append(pl.Series(c, [None if v is None else str(v) for v in values], dtype=pl.String))
    return pl.DataFrame(series) if series else pl.DataFrame()


def sheets(doc: dict[str, Any], lang: Lang) -> dict[str, pl.DataFrame]:
    """The workbook's sheets as frames (headers in ``lang``), before neutralisation."""
    t = LABELS[lang]
    rnd = doc["round"]
    meta = [
        (t["round"], rnd["id"]), (t["version"], rnd["version"]), (t["state"], rnd["state"]),
        (t["scheme"], rnd["scheme_label"]), (t["scheme"] + " id", rnd["scheme"]),
        (t["scheme_version"], doc.get("scheme_version")), (t["scheme_sha256"], rnd["scheme_sha256"]),
        (t["period"], rnd["period"]), (t["regions"], ", ".join(rnd["regions"])), (t["vintage"], rnd["vintage"]),
        (t["inputs_sha256"], rnd["inputs_sha256"]), (t["created"], f"{rnd['created_by']} {rnd['created_at']}"),
        (t["reason"], rnd.get("reason")), (t["approved_by"], rnd["approved_by"]),
        (t["approved_at"], rnd["approved_at"]), (t["scores_sha256"], rnd["scores_sha256"]),
    ]
    out = {t["round"]: pl.DataFrame({"key": [k for k, _ in meta], "value": [None if v is None else str(v)
                                                                              for _, v in meta]})}
    out[t["weights"]] = _frame([{"indicator": k, "weight": v} for k, v in doc["weights"].items()],
                               ["indicator", "weight"])
    ahp_rows = []
    for node in doc.get("ahp", []):
        for expert, cr in node["experts"].items():
            ahp_rows.append({"node": node["node"], "expert": expert, "cr": cr})
        ahp_rows.append({"node": node["node"], "expert": t["pooled_cr"], "cr": node.get("pooled_cr")})
    out["AHP"] = _frame(ahp_rows, ["node", "expert", "cr"])
    score_rows = []
    for s in doc["scores"]:
        prev = s.get("previous_rectification") or {}
        score_rows.append({
            "scenario_id": s["scenario_id"], "name": _name(s, lang), "region": s.get("region"), "total": s.get("total"),
            "grade": _grade(doc, s.get("grade_id"), lang), "rank": s.get("rank"), "rank_lo": s.get("rank_lo"),
            "rank_hi": s.get("rank_hi"), "benchmark": t["yes"] if s.get("benchmark") else "", "status": s.get("status"),
            "previous_rectification": prev.get("status"), "previous_note": prev.get("note"),
        })  # fmt: skip
    out[t["scores"]] = _frame(score_rows, ["scenario_id", "name", "region", "total", "grade", "rank", "rank_lo",
                                           "rank_hi", "benchmark", "status", "previous_rectification",
                                           "previous_note"])
    out[t["agreement"]] = _frame(
        [{"indicator": a["indicator_id"], "scale": a["scale"], "raters": ", ".join(a["raters"]),
          "icc_2_1": a["icc_2_1"], "icc_2_k": a["icc_2_k"], "kendall_w": a["kendall_w"],
          "flagged": ", ".join(f["scenario_id"] for f in a["flagged"])} for a in doc["agreement"]],
        ["indicator", "scale", "raters", "icc_2_1", "icc_2_k", "kendall_w", "flagged"],
    )
    out[t["rectifications"]] = _frame(
        [{**x, "name": _name(x, lang), "grade": _grade(doc, x["grade_id"], lang)} for x in doc["rectifications"]],
        ["scenario_id", "name", "department", "total", "grade", "due_date", "status", "note", "updated_by"],
    )
    out[t["benchmarks"]] = _frame([{**x, "name": _name(x, lang)} for x in doc["benchmarks"]],
                                  ["scenario_id", "name", "department", "total", "grade_id", "rank"])
    return out


def xlsx(doc: dict[str, Any], lang: Lang) -> bytes:
    """The report as a workbook, one sheet per part, every text cell neutralised."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "nan_inf_to_errors": True})
    for title, frame in sheets(doc, lang).items():
        safe = neutralise_formulas(frame)
        sheet = book.add_worksheet(title[:31])
        for c, name in enumerate(safe.columns):
            sheet.write_string(0, c, name)
        for r, row in enumerate(safe.iter_rows(), start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write_number(r, c, float(value))
    book.close()
    return buffer.getvalue()
