"""The dtscope dashboard: a Dash app that displays published tables and links to MLflow runs.

It never fits or scores. ``app.create_app`` builds it, ``app.serve`` serves it; ``contract`` lists the
tables it reads, ``pages/`` holds one module per page, ``figures`` the pure frame → figure functions,
``views`` the pure frame → frame helpers (KPI grid, what-if), ``i18n`` the labels (Chinese first).
"""
