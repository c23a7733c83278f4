"""Keep pytest's ``--doctest-modules`` from importing the page modules on their own.

Each page module calls ``dash.register_page`` at import (:func:`dashboard.routes.register_page`), which Dash
allows only once the app exists; Dash imports them itself from ``pages_folder`` when ``dashboard.app.create_app`` builds the app. The pages hold
layouts and callbacks only (their pure helpers live in ``dashboard.views`` and carry the doctests), and the
dashboard tests exercise them through the app.
"""

collect_ignore_glob = ["*.py"]
