"""Callback registration that works for more than one app per process.

Dash's global ``dash.callback`` hands its callbacks to the *first* app that starts, so a second app in
the same process (a test next to a benchmark) would have none. Page modules therefore decorate with
:func:`callback` / :func:`clientside_callback` from here — same signature as Dash's — which only
record the callback; :func:`attach` binds every recorded callback to an app inside ``create_app``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_SERVER: list[tuple[tuple[Any, ...], dict[str, Any], Callable[..., Any]]] = []
_CLIENT: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []


def callback(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Record a server callback (arguments as for ``dash.callback``); returns the function unchanged."""

    def record(fn: Callable[..., Any]) -> Callable[..., Any]:
        _SERVER.append((args, kwargs, fn))
        return fn

    return record


def clientside_callback(code: str, *args: Any, **kwargs: Any) -> None:
    """Record a clientside callback (arguments as for ``dash.clientside_callback``)."""
    _CLIENT.append((code, args, kwargs))


def attach(app: Any) -> int:
    """Bind every recorded callback to ``app``; returns how many were bound."""
    for args, kwargs, fn in _SERVER:
        app.callback(*args, **kwargs)(fn)
    for code, args, kwargs in _CLIENT:
        app.clientside_callback(code, *args, **kwargs)
    return len(_SERVER) + len(_CLIENT)
