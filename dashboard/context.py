"""What a page or callback needs from the running app (its settings live in the Flask config).

Settings are read from ``flask.current_app`` on every request, so ``dashboard.app.configure`` can point the
process's one app at another folder (or other upload handlers) without rebuilding it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
from flask import current_app, has_request_context, request

from dashboard.data import PublishedTables
from dashboard.scope import PRINCIPAL_ENVIRON_KEY, Scope, Viewer, scope_frame, scope_of

TABLES_KEY = "DTSCOPE_TABLES"
MLFLOW_KEY = "DTSCOPE_MLFLOW_UI_URL"
UPLOAD_KEY = "DTSCOPE_UPLOAD_HANDLER"
CONFIRM_KEY = "DTSCOPE_CONFIRM_HANDLER"
MAX_UPLOAD_KEY = "DTSCOPE_MAX_UPLOAD_BYTES"
REQUIRE_PRINCIPAL_KEY = "DTSCOPE_REQUIRE_PRINCIPAL"


class NoPrincipal(PermissionError):
    """The app serves under the service but the request carries no principal: refuse, never widen."""


def service_mode() -> bool:
    """True when the app was built to serve behind the service's login (``require_principal``)."""
    return bool(current_app.config.get(REQUIRE_PRINCIPAL_KEY))


def principal() -> Viewer | None:
    """The authenticated viewer of the current request, or None in development mode (single user).

    Raises:
        NoPrincipal: the app requires a principal (service mode), or the service put the key in the
            environ, and there is none: a missing principal never shows everything.
    """
    environ = request.environ if has_request_context() else {}
    found = environ.get(PRINCIPAL_ENVIRON_KEY)
    if found is None and (service_mode() or PRINCIPAL_ENVIRON_KEY in environ):
        raise NoPrincipal("this dashboard serves signed-in users only; log in through the service")
    return found


def scope() -> Scope:
    """The rows the current viewer may see (everything in development mode)."""
    return scope_of(principal())


class ScopedTables:
    """The published tables as the current viewer may see them: :meth:`read` filters on the server."""

    def __init__(self, published: PublishedTables, scope: Scope) -> None:
        self.published = published
        self.scope = scope

    def read(self, name: str) -> pl.DataFrame | None:
        """Table ``name`` (see :meth:`PublishedTables.read`) with only the rows in scope."""
        frame = self.published.read(name)
        if frame is None or self.scope.everything:
            return frame
        scenarios = self.published.read("scenarios") if "scenario_id" in frame.columns else None
        return scope_frame(name, frame, self.scope, scenarios)

    def available(self) -> list[str]:
        return self.published.available()


def tables() -> ScopedTables:
    """The published tables of the app serving the current request, filtered to the viewer's scope."""
    return ScopedTables(current_app.config[TABLES_KEY], scope())


def all_tables() -> PublishedTables:
    """Every published row, unfiltered: only for what no viewer sees row by row (e.g. totals for ranks)."""
    return current_app.config[TABLES_KEY]


def mlflow_ui_url() -> str | None:
    return current_app.config.get(MLFLOW_KEY)


def upload_handler() -> Callable[[str, bytes], Any] | None:
    return current_app.config.get(UPLOAD_KEY)


def confirm_handler() -> Callable[[str, bytes], Any] | None:
    return current_app.config.get(CONFIRM_KEY)


def max_upload_bytes() -> int:
    return int(current_app.config.get(MAX_UPLOAD_KEY, 5 * 1024 * 1024))


def run_link(run_id: str | None) -> str | None:
    """The MLflow UI address of ``run_id``: the ``runs`` table's ``mlflow_url``, else one built from
    the app's ``mlflow_ui_url``, else None."""
    if not run_id:
        return None
    runs = tables().read("runs")
    if runs is not None:
        hit = runs.filter(runs["run_id"] == run_id)
        if hit.height and hit["mlflow_url"][0]:
            return str(hit["mlflow_url"][0])
    base = mlflow_ui_url()
    return f"{base.rstrip('/')}/#/runs/{run_id}" if base else None
