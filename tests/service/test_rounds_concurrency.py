"""Concurrent writes to one round on SQLite and PostgreSQL: nothing lost, no half state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.principal import Principal
from service.rounds import core
from service.store import open_store
from service.store.models import Judgement, Round
from tests.service.test_store import db_url, postgres_url  # noqa: F401  (fixtures: SQLite and a real PostgreSQL)

LEADER = Principal(1, "lead", "leader", ("pudong",))
EV = {name: Principal(i + 2, name, "evaluator", ("pudong",)) for i, name in enumerate(("ana", "bo", "cy"))}


def _threads(*jobs: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # collected and asserted by the caller
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    return errors


def _rate(store: Any, who: str, rid: int, scenarios: list[str], base: float) -> Callable[[], None]:
    def job() -> None:
        for k, sid in enumerate(scenarios):
            with store.unit() as s:
                core.save_judgement(s, core.Actor(EV[who]), rid, sid,
                                    scores={"demand_fit": base + k % 20, "replicability": 1 + k % 5}, comment=None)
    return job


def test_concurrent_evaluators_lose_nothing_and_approval_never_sees_half_a_state(
    db_url: str,  # noqa: F811
    demo_home: Path,
) -> None:
    store = open_store(db_url)
    with store.unit() as s:
        rid = core.open_round(s, core.Actor(LEADER), scheme="judged", period="2024", regions=["pudong"],
                              home=demo_home, known_regions=["pudong", "hongkou"]).id
        scenarios = core.scenario_ids(s.get(Round, rid))  # type: ignore[arg-type]

    # two evaluators saving at once: every rating lands
    assert not _threads(_rate(store, "ana", rid, scenarios, 50), _rate(store, "bo", rid, scenarios, 70))
    with store.unit() as s:
        n = s.scalar(select(func.count()).select_from(Judgement).where(Judgement.round_id == rid))
        lock_version = s.get(Round, rid).lock_version  # type: ignore[union-attr]
    assert n == 2 * 2 * len(scenarios)
    assert lock_version == 2 * len(scenarios)  # every save took the round's lock once

    # both submit at once: the round becomes submitted exactly once (no lost transition)
    def submit(who: str) -> Callable[[], None]:
        def job() -> None:
            with store.unit() as s:
                core.submit(s, core.Actor(EV[who]), rid)
        return job

    assert not _threads(submit("ana"), submit("bo"))
    with store.unit() as s:
        assert s.get(Round, rid).state == "submitted"  # type: ignore[union-attr]

    # a third evaluator's ratings race the approval: each is refused (409) or lands before it, never half
    outcomes: list[str] = []

    def late_rater() -> None:
        for sid in scenarios[:10]:
            try:
                with store.unit() as s:
                    core.save_judgement(s, core.Actor(EV["cy"]), rid, sid, scores={"demand_fit": 1.0}, comment=None)
                outcomes.append("saved")
            except core.RoundError as exc:
                outcomes.append(str(exc.status))

    def approve() -> None:
        with store.unit() as s:
            core.approve(s, core.Actor(LEADER), rid)

    assert not _threads(late_rater, approve)
    assert outcomes == ["409"] * 10  # a submitted round takes no ratings, before or after approval
    with store.unit() as s:
        r = s.get(Round, rid)
        assert r is not None and r.state == "approved"
        assert core.canonical_json(core.compute_scores(s, r)) == r.scores
        with pytest.raises(core.RoundError) as refused:
            core.save_judgement(s, core.Actor(EV["ana"]), rid, scenarios[0], scores={"demand_fit": 3.0}, comment=None)
    assert refused.value.status == 409
    store.engine.dispose()


def test_reopened_round_races_a_rating_against_a_return(db_url: str, demo_home: Path) -> None:  # noqa: F811
    """A return racing ratings on an open round: every rating either lands before the return (and is kept)
    or after it (and reopens the round) — the stored ratings equal the ones reported saved."""
    store = open_store(db_url)
    with store.unit() as s:
        rid = core.open_round(s, core.Actor(LEADER), scheme="judged", period="2024", regions=["pudong"],
                              home=demo_home, known_regions=["pudong"]).id
        scenarios = core.scenario_ids(s.get(Round, rid))  # type: ignore[arg-type]
    saved: list[str] = []

    def rater() -> None:
        for sid in scenarios:
            with store.unit() as s:
                core.save_judgement(s, core.Actor(EV["ana"]), rid, sid, scores={"demand_fit": 40.0}, comment=None)
            saved.append(sid)

    def returner() -> None:
        with store.unit() as s:
            core.return_round(s, core.Actor(LEADER), rid, "re-check the need statements")

    assert not _threads(rater, returner)
    with store.unit() as s:
        stored = set(s.scalars(select(Judgement.scenario_id).where(Judgement.round_id == rid)))
        state = s.get(Round, rid).state  # type: ignore[union-attr]
    assert stored == set(saved) == set(scenarios)
    assert state in ("open", "returned")
    store.engine.dispose()
