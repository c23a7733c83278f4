"""Assessment rounds as the pages show them: pure functions from the API's JSON to frames, texts and requests.

The round pages (``pages/rounds.py``, ``pages/round.py``) never touch the round store. The browser fetches
the service's API (``assets/rounds.js``) and hands each answer to a Python callback as ``{"status", "body"}``;
the functions here turn those answers into grid frames and build the requests the forms send back. The API
decides who may do what; :func:`allowed_actions` only decides which buttons a role is offered.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from evaluation.assessment.pairwise import from_upper, reciprocal_text, review

API = "/api/v1/rounds"
Answer = dict[str, Any]  # {"status": int, "body": JSON}
EDITABLE = ("open", "returned")


def round_urls(round_id: int) -> dict[str, str]:
    """The API addresses the round page reads (all GET).

    >>> round_urls(7)["round"]
    '/api/v1/rounds/7'
    """
    base = f"{API}/{round_id}"
    return {"round": base, "judgements": f"{base}/judgements", "scores": f"{base}/scores",
            "agreement": f"{base}/agreement", "ahp": f"{base}/ahp", "owners": f"{base}/owners"}  # fmt: skip


def report_urls(round_id: int, lang: str) -> dict[str, str]:
    """The round report's addresses (``GET /api/v1/rounds/{id}/report``) as a page and as a workbook.

    >>> report_urls(7, "en")["xlsx"]
    '/api/v1/rounds/7/report?format=xlsx&lang=en'
    """
    lang = "en" if lang == "en" else "zh"
    return {fmt: f"{API}/{round_id}/report?format={fmt}&lang={lang}" for fmt in ("html", "xlsx")}


def ok(answer: Answer | None) -> bool:
    """True when the API answered 2xx with a body."""
    return bool(answer) and 200 <= int(answer.get("status") or 0) < 300 and answer.get("body") is not None  # type: ignore[union-attr]


def body(answer: Answer | None) -> Any:
    """The answer's JSON when it succeeded, else None."""
    return answer["body"] if answer is not None and ok(answer) else None


def problem(answer: Answer | None) -> str | None:
    """The API's reason for a refusal (problem+json ``detail``), or None when it succeeded.

    >>> problem({"status": 409, "body": {"detail": "round 3 is approved"}})
    'round 3 is approved'
    >>> problem({"status": 200, "body": {}}) is None
    True
    """
    if answer is None or ok(answer):
        return None
    doc = answer.get("body")
    if isinstance(doc, dict) and doc.get("detail"):
        detail = doc["detail"]
        return detail if isinstance(detail, str) else str(detail)
    return f"HTTP {answer.get('status')}"


def allowed_actions(role: str, name: str, doc: dict[str, Any]) -> set[str]:
    """The buttons a role is offered on a round in its state (the API still checks every write).

    Evaluators rate, enter AHP matrices and submit while the round is open or returned and they have not
    submitted; leaders approve a submitted round, return a submitted or open one, and revise an approved one.

    >>> sorted(allowed_actions("evaluator", "e1", {"state": "open", "progress": {}, "ahp_nodes": {"r": ["a", "b"]}}))
    ['ahp', 'rate', 'submit']
    >>> sorted(allowed_actions("leader", "l", {"state": "submitted"}))
    ['approve', 'return']
    >>> sorted(allowed_actions("owner", "o", {"state": "open"}))
    ['self_assess']
    """
    state = doc.get("state")
    if role == "evaluator":
        mine = (doc.get("progress") or {}).get(name) or {}
        if state in EDITABLE and not mine.get("submitted"):
            return {"rate", "submit"} | ({"ahp"} if doc.get("ahp_nodes") else set())
        return set()
    if role == "leader":
        return {"submitted": {"approve", "return"}, "open": {"return"}, "approved": {"revise"}}.get(str(state), set())
    if role == "owner":
        return {"self_assess"} if state in EDITABLE else set()
    return set()


def progress_frame(doc: dict[str, Any]) -> pl.DataFrame:
    """Per evaluator: cells rated of the cells expected, and whether it submitted.

    >>> progress_frame({"progress": {"e1": {"rated": 2, "expected": 4, "submitted": False}}}).row(0)
    ('e1', 2, 4, False)
    """
    rows = [{"evaluator": e, "rated": int(p.get("rated", 0)), "expected": int(p.get("expected", 0)),
             "submitted": bool(p.get("submitted"))} for e, p in (doc.get("progress") or {}).items()]  # fmt: skip
    schema = {"evaluator": pl.String, "rated": pl.Int64, "expected": pl.Int64, "submitted": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)


def scenario_progress(doc: dict[str, Any], items: list[dict[str, Any]], me: str) -> pl.DataFrame:
    """Per scenario of the round: the judged indicators you rated, and how many raters you may see rated it.

    ``items`` are the ratings the API let the caller see (its own, and the submitted raters' once it may see
    them), so an evaluator that has not submitted sees only itself counted.

    >>> doc = {"scenarios": ["S1", "S2"], "judged_indicators": [{"id": "need"}, {"id": "value"}]}
    >>> items = [{"evaluator": "e1", "scenario_id": "S1", "indicator_id": "need"},
    ...          {"evaluator": "e2", "scenario_id": "S1", "indicator_id": "need"}]
    >>> scenario_progress(doc, items, "e1").rows()
    [('S1', 1, 2, 2), ('S2', 0, 2, 0)]
    """
    n_judged = len(doc.get("judged_indicators") or [])
    rows = []
    for sid in doc.get("scenarios") or []:
        mine = {x["indicator_id"] for x in items if x["scenario_id"] == sid and x["evaluator"] == me}
        raters = {x["evaluator"] for x in items if x["scenario_id"] == sid}
        rows.append({"scenario_id": sid, "mine": len(mine), "judged": n_judged, "raters": len(raters)})
    schema = {"scenario_id": pl.String, "mine": pl.Int64, "judged": pl.Int64, "raters": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def own_sheet(items: list[dict[str, Any]], me: str, scenario_id: str) -> tuple[dict[str, float], str | None]:
    """The caller's own ratings of one scenario and its comment (never another rater's)."""
    mine = [x for x in items if x["evaluator"] == me and x["scenario_id"] == scenario_id]
    comment = next((x.get("comment") for x in mine if x.get("comment")), None)
    return {x["indicator_id"]: float(x["score"]) for x in mine}, comment


def judgement_request(
    round_id: int, scenario_id: str, values: dict[str, Any], comment: str | None, judged: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, str | None]:
    """The ``PUT …/judgements/{scenario_id}`` request of the judgement form, or the reason it cannot be sent.

    Empty fields are left out (a sheet may be saved part-filled); a value off the indicator's scale is
    refused here with the same bounds the API checks.

    >>> judged = [{"id": "need", "min": 0, "max": 100}]
    >>> judgement_request(3, "S1", {"need": 80}, "", judged)[0]["body"]
    {'scores': {'need': 80.0}}
    >>> judgement_request(3, "S1", {"need": 120}, None, judged)[1]
    'need: 120 is outside 0–100'
    """
    bounds = {j["id"]: (float(j["min"]), float(j["max"])) for j in judged}
    scores: dict[str, float] = {}
    for ind, raw in values.items():
        if raw is None or raw == "":
            continue
        try:
            x = float(raw)
        except (TypeError, ValueError):
            return None, f"{ind}: {raw!r} is not a number"
        lo, hi = bounds[ind]
        if not lo <= x <= hi:
            return None, f"{ind}: {x:g} is outside {lo:g}–{hi:g}"
        scores[ind] = x
    if not scores and not comment:
        return None, "empty"
    doc: dict[str, Any] = {"scores": scores}
    if comment:
        doc["comment"] = comment
    return {"action": "judgement", "method": "PUT", "url": f"{API}/{round_id}/judgements/{scenario_id}", "body": doc}, None


def ahp_review(order: list[str], cells: dict[tuple[int, int], Any], settings: dict[str, Any] | None) -> dict[str, Any]:
    """The AHP form's live review: weights, CR, whether it may be submitted, the judgement to revisit.

    ``cells`` maps the upper triangle's ``(i, j)`` to what the expert typed (``"3"``, ``"1/5"``); the lower
    triangle is their reciprocals. Same computation as the API's answer on save
    (:func:`evaluation.assessment.pairwise.review`), with the round's method, RI table and CR limit.

    Returns:
        ``review``'s dict plus ``matrix`` (the full matrix as lists) and ``reciprocals`` (``{(j, i): text}``),
        or ``{"error": text}`` when a cell cannot be read.

    >>> r = ahp_review(["a", "b", "c"], {(0, 1): "2", (0, 2): "4", (1, 2): "2"}, {"max_cr": 0.1})
    >>> round(r["cr"], 9), r["consistent"], r["reciprocals"][(2, 0)]
    (0.0, True, '1/4')
    >>> "error" in ahp_review(["a", "b"], {(0, 1): "zero"}, None)
    True
    """
    n = len(order)
    settings = settings or {}
    try:
        a = from_upper(cells, n)
    except (KeyError, ValueError) as exc:
        return {"error": str(exc)}
    out = review(a, order, method=settings.get("method", "eigenvector"), ri_table=settings.get("ri_table", "saaty"),
                 max_cr=float(settings.get("max_cr", 0.1)))  # fmt: skip
    out["matrix"] = np.asarray(a).tolist()
    out["reciprocals"] = {(j, i): reciprocal_text(cells[(i, j)]) for i in range(n) for j in range(i + 1, n)}
    return out


def ahp_request(round_id: int, node: str, order: list[str], cells: dict[tuple[int, int], Any]) -> dict[str, Any]:
    """The ``PUT …/ahp/{node}`` request: the full matrix, upper triangle as typed (fractions kept as text)."""
    n = len(order)
    matrix: list[list[Any]] = [[1] * n for _ in range(n)]
    for (i, j), raw in cells.items():
        matrix[i][j] = str(raw).strip()
        matrix[j][i] = reciprocal_text(raw)
    return {"action": "ahp", "method": "PUT", "url": f"{API}/{round_id}/ahp/{node}", "body": {"matrix": matrix}}


def action_request(round_id: int, action: str, reason: str | None = None) -> dict[str, Any]:
    """The request of a state button (``submit``, ``approve``, ``return`` with a reason, ``revisions``).

    >>> action_request(4, "return", "ratings of S2 missing")["body"]
    {'reason': 'ratings of S2 missing'}
    """
    doc = {"reason": reason} if action in ("return", "revisions") else None
    return {"action": action, "method": "POST", "url": f"{API}/{round_id}/{action}", "body": doc}


def scores_frame(items: list[dict[str, Any]]) -> pl.DataFrame:
    """The round's scores (``GET …/scores`` items) ordered by rank, with the rank interval as text."""
    if not items:
        return pl.DataFrame(schema={"scenario_id": pl.String})
    frame = pl.DataFrame(items, infer_schema_length=None)
    if "rank" in frame.columns:
        frame = frame.sort("rank", nulls_last=True)
    return frame
