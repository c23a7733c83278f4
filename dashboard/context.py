"""What a page or callback needs from the running app (its settings live in the Flask config).

Settings are read from ``flask.current_app`` on every request, so ``dashboard.app.configure`` can point the
process's one app at another folder (or other upload handlers) without rebuilding it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from dashboard.data import PublishedTables

TABLES_KEY = "DTSCOPE_TABLES"
MLFLOW_KEY = "DTSCOPE_MLFLOW_UI_URL"
UPLOAD_KEY = "DTSCOPE_UPLOAD_HANDLER"
CONFIRM_KEY = "DTSCOPE_CONFIRM_HANDLER"
MAX_UPLOAD_KEY = "DTSCOPE_MAX_UPLOAD_BYTES"


def tables() -> PublishedTables:
    """The published tables of the app serving the current request."""
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
