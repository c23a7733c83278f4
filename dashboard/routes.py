"""The dashboard's pages in one table: each page module's address, title and place in the navigation bar.

Each module of ``dashboard/pages/`` registers itself with :func:`register_page` (Dash's ``dash.register_page``
with its row of :data:`ROUTES`); the shell's navigation bar is :data:`NAV`, read from the same rows.
"""

from __future__ import annotations

from typing import NamedTuple

import dash

from dashboard.i18n import t


class Route(NamedTuple):
    """A page's address (a template when it holds ``<variables>``), the label key of its title and whether the
    navigation bar links to it (with its title as the link's text)."""

    path: str
    title: str
    nav: bool = False


# Page module name -> its route, in the order Dash lists the pages.
ROUTES: dict[str, Route] = {
    "overview": Route("/", "nav.overview", nav=True),
    "kpi": Route("/kpi/<kpi_id>", "col.kpi"),
    "scenarios": Route("/scenarios", "nav.scenarios", nav=True),
    "scenario": Route("/scenarios/<scenario_id>", "col.scenario"),
    "rounds": Route("/rounds", "nav.rounds", nav=True),
    "round": Route("/rounds/<round_id>", "nav.rounds"),
    "models": Route("/models", "nav.models", nav=True),
    "data": Route("/data", "nav.data", nav=True),
}

# (label key, address) of each link of the navigation bar, in order.
NAV: tuple[tuple[str, str], ...] = tuple((r.title, r.path) for r in ROUTES.values() if r.nav)


def register_page(module: str) -> None:
    """Register the page module ``module`` (``dashboard.pages.<name>``, its ``__name__``) with Dash, at the
    address, title (``dtscope · <title>``) and order of its row of :data:`ROUTES`.

    Raises:
        KeyError: the module has no row in :data:`ROUTES`.
    """
    name = module.rpartition(".")[2]
    route = ROUTES[name]
    address = {"path_template": route.path} if "<" in route.path else {"path": route.path}
    dash.register_page(module, title=f"dtscope · {t(route.title)}", order=list(ROUTES).index(name), **address)
