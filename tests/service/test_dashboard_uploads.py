"""The dashboard's uploads under the service: only ingesting roles, only their regions, every confirm audited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import pytest
from sqlalchemy import select

from service.dashboard_uploads import DashboardUploads, UploadNotAllowed
from service.principal import PRINCIPAL_ENVIRON_KEY, Principal
from service.store.models import AuditEvent

CSV = b"kpi_id,region,period,value\n5g_coverage,pudong,2023,97.4\n5g_coverage,hongkou,2023,96.1\n"


def _as(principal: Any) -> Any:
    return flask.Flask("t").test_request_context(
        "/_dash-update-component", environ_base={PRINCIPAL_ENVIRON_KEY: principal, "REMOTE_ADDR": "10.1.2.3"}
    )


@pytest.fixture
def uploads(make_service: Callable[..., Any], demo_home: Path, copy_home: Callable[[Path, Path], Path], tmp_path: Path) -> DashboardUploads:
    svc = make_service(copy_home(demo_home, tmp_path / "home"))
    return DashboardUploads(svc.settings, svc.store)


def test_an_owner_confirm_stores_only_its_regions_and_is_audited(uploads: DashboardUploads) -> None:
    owner = Principal(7, "pd-owner", "owner", ("pudong",), department="区科经委", via="session")
    with _as(owner):
        accepted, rejects = uploads.validate("mine.csv", CSV)
        assert accepted.height == 2 and rejects.height == 0  # the preview validates; scope is the confirm's
        message = uploads.confirm("mine.csv", CSV)
    assert "1 accepted" in message and "1 rejected" in message, message
    assert "/" not in message.split(":", 1)[0]  # the file's name only, never a server path
    with uploads.store.unit() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "ingest")).one()
    assert (event.actor, event.role, event.address) == ("pd-owner", "owner", "10.1.2.3")
    assert '"accepted": 1' in (event.after or "") and '"via": "dashboard"' in (event.after or "")


@pytest.mark.parametrize("principal", [None, Principal(8, "pd-leader", "leader", ("pudong",), via="session")])
def test_no_principal_or_a_non_ingesting_role_cannot_upload(uploads: DashboardUploads, principal: Any) -> None:
    with _as(principal), pytest.raises(UploadNotAllowed):
        uploads.confirm("mine.csv", CSV)
    with uploads.store.unit() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "ingest")).first() is None


def test_an_upload_over_the_limit_is_refused_whole(uploads: DashboardUploads) -> None:
    owner = Principal(7, "pd-owner", "owner", ("pudong",), via="session")
    big = CSV + b"#" * uploads.settings.max_upload_bytes
    with _as(owner):
        assert "refused" in uploads.confirm("big.csv", big)
