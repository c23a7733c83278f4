"""One module per page, each with a ``layout(**kwargs)`` function registered by :func:`dashboard.app.create_app`."""
