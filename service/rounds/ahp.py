"""AHP judgements entered by the experts (evaluators) of a round.

Each evaluator fills the pairwise matrix of every node of the frozen scheme's AHP tree. A matrix is
stored with its consistency ratio; it may be saved while inconsistent (a draft), but an evaluator whose
matrices include one with CR above the scheme's ``max_cr`` cannot submit. The round's weights pool the
submitted experts' matrices by the element-wise geometric mean (the scheme's own
:func:`evaluation.assessment.weights.aggregate_experts` path, by replacing the frozen AHP file's
``experts`` with theirs).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluation.assessment.pairwise import SAATY, parse_matrix, review
from evaluation.assessment.scheme import Scheme, SchemeError, parse_scheme
from service import audit
from service.store.models import AhpJudgement, Round, RoundSubmission

MIN_EXPERTS = 2  # a round weighted by AHP is submitted once this many experts submitted their matrices
__all__ = ["MIN_EXPERTS", "SAATY", "evaluate", "parse_matrix"]


def _frozen(r: Round) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(r.scheme_text)
    return doc


def settings(r: Round) -> dict[str, Any] | None:
    """The frozen AHP file of the round's scheme (``None`` when the scheme does not weight by AHP)."""
    ahp: dict[str, Any] | None = _frozen(r)["ahp"]
    return ahp


def nodes(r: Round) -> dict[str, list[str]]:
    """Node id → the order of its children, for every matrix the experts fill."""
    ahp = settings(r)
    if ahp is None:
        return {}
    return {node: list(m["order"]) for node, m in ahp.get("matrices", {}).items() if len(m["order"]) >= 2}


def evaluate(a: np.ndarray, order: list[str], *, method: str = "eigenvector", ri_table: str = "saaty",
             max_cr: float = 0.1) -> dict[str, Any]:
    """Weights, CR and the most inconsistent judgement (:func:`evaluation.assessment.pairwise.review`, which
    the dashboard's AHP form shows live)."""
    return review(a, order, method=method, ri_table=ri_table, max_cr=max_cr)  # type: ignore[arg-type]


def options(r: Round) -> dict[str, Any] | None:
    """The frozen scheme's AHP method, RI table and CR limit (None when its weights are fixed)."""
    return _opts(r) if nodes(r) else None


def _opts(r: Round) -> dict[str, Any]:
    ahp = settings(r) or {}
    return {"method": ahp.get("method", "eigenvector"), "ri_table": ahp.get("ri_table", "saaty"),
            "max_cr": float(ahp.get("max_cr", 0.1))}


def save(session: Session, r: Round, evaluator: str, node: str, raw: list[list[Any]]) -> tuple[dict[str, Any], Any]:
    """Store one expert's matrix for ``node`` (the caller holds the round's lock). Returns (evaluation, before)."""
    order = nodes(r).get(node)
    if order is None:
        known = ", ".join(nodes(r)) or "none: the scheme's weights are fixed"
        raise KeyError(f"node {node!r} has no AHP matrix in {r.scheme_label}; nodes: {known}")
    a = parse_matrix(raw, len(order))
    result = evaluate(a, order, **_opts(r))
    row = session.scalars(select(AhpJudgement).where(
        AhpJudgement.round_id == r.id, AhpJudgement.evaluator == evaluator, AhpJudgement.node == node)).one_or_none()
    text = json.dumps(a.tolist())
    before = None
    if row is None:
        session.add(AhpJudgement(round_id=r.id, evaluator=evaluator, node=node, matrix=text, cr=result["cr"],
                                 updated_at=audit.utcnow()))
    else:
        before = {"matrix": json.loads(row.matrix), "cr": row.cr}
        row.matrix, row.cr, row.updated_at = text, result["cr"], audit.utcnow()
    return {"node": node, "order": order, **result}, before


def check_submittable(session: Session, r: Round, scheme: Scheme, evaluator: str) -> None:
    """Raise ``RoundError(422)`` when the evaluator's AHP matrices are missing or too inconsistent."""
    from service.rounds.core import RoundError

    wanted = nodes(r)
    if not wanted:
        return
    mine = {a.node: a for a in session.scalars(select(AhpJudgement).where(
        AhpJudgement.round_id == r.id, AhpJudgement.evaluator == evaluator))}
    missing = [n for n in wanted if n not in mine]
    if missing:
        raise RoundError(422, f"fill the AHP matrix of node(s) {', '.join(missing)} before submitting")
    limit = _opts(r)["max_cr"]
    bad = [f"{n} (CR {mine[n].cr:.3f})" for n in wanted if mine[n].cr > limit]
    if bad:
        raise RoundError(422, f"consistency ratio above the scheme's limit {limit:.2f} in {', '.join(bad)}; "
                              "revise the most inconsistent judgement and save again")


def pooled_scheme(session: Session, r: Round, scheme: Scheme) -> Scheme:
    """The round's scheme with the submitted experts' matrices in place of the frozen file's ones."""
    wanted = nodes(r)
    if not wanted:
        return scheme
    done = set(session.scalars(select(RoundSubmission.evaluator).where(RoundSubmission.round_id == r.id)))
    rows = [a for a in session.scalars(select(AhpJudgement).where(AhpJudgement.round_id == r.id)
                                       .order_by(AhpJudgement.evaluator)) if a.evaluator in done]
    if not rows:
        return scheme
    doc = _frozen(r)
    ahp = doc["ahp"]
    for node in wanted:
        mats = [json.loads(a.matrix) for a in rows if a.node == node]
        if mats:
            ahp["matrices"][node]["experts"] = mats
    try:
        return parse_scheme(doc["scheme"], scheme.path, ahp_data=ahp)
    except SchemeError as exc:  # the pooled matrix itself is too inconsistent
        from service.rounds.core import RoundError

        raise RoundError(409, f"the experts' pooled judgements are inconsistent: {exc}") from None


def report(session: Session, r: Round, scheme: Scheme) -> list[dict[str, Any]]:
    """Per node: each expert's CR and the pooled weights and CR the round uses."""
    out = []
    rows = list(session.scalars(select(AhpJudgement).where(AhpJudgement.round_id == r.id)))
    for node, order in nodes(r).items():
        out.append({
            "node": node,
            "experts": {a.evaluator: a.cr for a in rows if a.node == node},
            "pooled_cr": scheme.ahp_cr.get(node),
            "weights": {k: scheme.local_weights[k] for k in order},
        })
    return out
