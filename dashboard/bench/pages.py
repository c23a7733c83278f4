"""The dashboard's pages as a browser opens them on the demo's published world, for the browser tests and the bench.

Each page has an address showing one KPI or scenario of ``dtscope demo`` + ``dtscope run`` (both the two-district
and the all-district demo publish them), and the CSS selector of the element it renders last: a page counts as
shown once that element is in the DOM.
"""

from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    """One page: ``path`` to open (with its query), ``ready`` (CSS: present once the page is shown) and
    ``route`` (its route, as reports name it)."""

    path: str
    ready: str
    route: str


PAGES: dict[str, Page] = {
    "overview": Page("/", "#kpi-grid-table .ag-row", route="/"),
    "kpi": Page("/kpi/online_handling_share?region=pudong", "#kpi-fan .main-svg", route="/kpi/<id>"),
    "scenarios": Page("/scenarios", "#sensitivity-graph .main-svg", route="/scenarios"),
    "scenario": Page("/scenarios/HK-IOT-01", "#scen-efficacy .main-svg", route="/scenarios/<id>"),
    "models": Page("/models", "#calibration-graph .main-svg", route="/models"),
    "data": Page("/data", "#rejects-table .ag-row", route="/data"),
}
