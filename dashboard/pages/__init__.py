"""One module per page, each registered with ``dash.register_page(__name__)`` at the address, title and nav
entry :mod:`dashboard.routes` gives it, and laid out by its ``layout(**kwargs)``."""

__all__ = ["data", "kpi", "models", "overview", "round", "rounds", "scenario", "scenarios"]
