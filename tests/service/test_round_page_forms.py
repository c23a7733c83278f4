"""The round pages offer their forms only to the roles that may use them, and their callbacks build a request
only for those roles: the open-a-round form (leaders and admins, the districts of their scope) on ``/rounds``
and the owners' self-assessment form on ``/rounds/<id>``. Called through the service with each role's real
session, as the authorisation matrix calls pages and callbacks (whose rows say every role is answered); the
API refuses the others' requests anyway (its rows in the matrix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.principal import ROLES
from tests.service.test_authorization_matrix import ROUTER, callback_body, served_dash_app, signed_in

OPENERS = {"leader", "admin"}


@pytest.fixture
def clients(make_service: Any, demo_home: Path) -> Any:
    svc = make_service(demo_home, dashboard="default")
    for role in ROLES:
        svc.user(f"{role}-pd", role, department="区科经委" if role == "owner" else None)
    out = {role: signed_in(svc, f"{role}-pd") for role in ROLES}
    assert out["leader"].get("/_dash-dependencies").status_code == 200
    return out


def post(client: Any, name: str, values: dict[str, Any], changed: str) -> str:
    body = callback_body(served_dash_app(), name, values, changed)
    answer = client.post("/_dash-update-component", json=body,
                         headers={"X-CSRFToken": client.cookies.get("_csrf_token", "")})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def page(client: Any, path: str) -> str:
    values = {"_pages_location.pathname": path, "_pages_location.search": "", "lang.value": "en"}
    return post(client, ROUTER, values, "_pages_location.pathname")


def test_the_open_a_round_form_is_offered_and_built_only_for_leaders_and_admins(clients: Any) -> None:
    for role in ROLES:
        open_form(clients[role], role)


def open_form(client: Any, role: str) -> None:
    shown = page(client, "/rounds")
    assert ("rounds-open-button" in shown) == (role in OPENERS)
    if role in OPENERS:  # the districts of the account's scope (Pudong), not Hongkou
        assert '"value":"pudong"' in shown and '"value":"hongkou"' not in shown
    values = {"rounds-open-button.n_clicks": 1, "rounds-open-scheme.value": "default",
              "rounds-open-period.value": "2024", "rounds-open-regions.value": ["pudong"], "lang.value": "en"}  # fmt: skip
    built = post(client, "dashboard.pages.rounds.open_round", values, "rounds-open-button.n_clicks")
    assert ('"url":"\\u002fapi\\u002fv1\\u002frounds"' in built) == (role in OPENERS), built


def test_the_owners_form_is_offered_and_built_only_for_owners(clients: Any) -> None:
    for role in ROLES:
        owner_form(clients[role], role)


def owner_form(client: Any, role: str) -> None:
    shown = page(client, "/rounds/1")
    assert ("owner-save" in shown) == (role == "owner")
    values = {"owner-save.n_clicks": 1, "owner-scenario.value": "PD-ECON-01", "owner-indicator.value": "usage_cases",
              "owner-note.value": "checked", "owner-evidence.value": "https://example.org/a", "round-id.data": 1}  # fmt: skip
    built = post(client, "dashboard.pages.round.save_self_assessment", values, "owner-save.n_clicks")
    assert ("self-assessment" in built) == (role == "owner"), built
    if role == "owner":
        assert '"evidence":["https:' in built.replace("\\u002f", "/") and '"note":"checked"' in built
