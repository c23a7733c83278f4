"""The dtscope dashboard: a Dash app that displays published tables and links to MLflow runs.

It never fits or scores, and imports neither ``models`` nor any model library. What the room holds:

- ``app`` — the shell (navigation, language toggle, downloads); ``create_app`` builds the process's one
  app, ``configure`` points it at a published-tables folder, ``serve`` serves it;
- ``pages/`` — one standard Dash page per module (``dash.register_page``, ``layout()``, ``@callback``);
- ``views`` — pure frame → frame / text functions (KPI grid, sentences, champion table, what-if);
- ``figures`` — pure frame → plotly figure functions;
- ``components`` — layout pieces (grids via dash-ag-grid, chips, banners, export buttons);
- ``exports`` — CSV, Excel and the leadership brief (a Jinja2 template, ``templates/brief.html.j2``);
- ``data`` / ``contract`` / ``context`` — reading the published tables, their contract, per-request settings;
- ``scope`` — who is looking (the service's principal, typed by a ``Protocol``) and the rows they may see:
  every table a page, callback, export or the brief reads is filtered there, on the server;
- ``i18n`` — the labels (Chinese first) and number formats; ``uploads`` — checks on an uploaded file;
- ``bench`` — ``python -m dashboard.bench``, page and callback timings in headless Chromium.

The public names are re-exported lazily (importing the package does not build or import the app).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["configure", "create_app", "leadership_brief_html", "serve"]

_HOMES = {"configure": "dashboard.app", "create_app": "dashboard.app", "serve": "dashboard.app",
          "leadership_brief_html": "dashboard.exports"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'dashboard' has no attribute {name!r}")
