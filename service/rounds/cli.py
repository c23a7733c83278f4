"""``dtscope score --round ID``: a round's scores from the store, the same document as ``GET …/scores``.

An approved round answers its stored scores and checks that a recomputation from its frozen inputs gives
the same bytes; any other round is scored now from the submitted ratings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.principal import Principal
from service.rounds import core
from service.settings import load_settings
from service.store import open_store

OPERATOR = Principal(0, "cli", "admin", ("*",))


class RoundNotReproducible(RuntimeError):
    """An approved round's stored scores differ from a recomputation (the inputs or code changed)."""


def round_scores(home: Path | str | None, round_id: int) -> dict[str, Any]:
    """The ``/api/v1/rounds/{id}/scores`` document of a round (``core.RoundError`` 404 when unknown)."""
    settings = load_settings(home)
    store = open_store(settings.database_url, lock_dir=settings.home)
    try:
        with store.unit() as s:
            r = core.get(s, round_id, OPERATOR)
            items = core.scores(s, r)
            if r.state == "approved" and core.canonical_json(core.compute_scores(s, r)) != r.scores:
                raise RoundNotReproducible(
                    f"round {round_id}: recomputing from the frozen inputs does not give the approved scores"
                )
            from service.rounds import results  # each scenario's previous rectification, as the API shows it

            return {"round": r.id, "state": r.state, "scheme": r.scheme_label, "period": r.period,
                    "scores_sha256": r.scores_sha256, "items": results.with_previous(s, r, items)}
    finally:
        store.engine.dispose()
