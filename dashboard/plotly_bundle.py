"""Which plotly.js the browser loads: the vendored cartesian partial bundle instead of the full one.

``dcc.Graph`` loads plotly.js lazily, the first time a graph is drawn, from ``window._dashPlotlyJSURL``
(set by Dash's renderer to the 4.8 MB full bundle of the ``plotly`` package) unless ``window.Plotly`` is
already defined. Parsing and compiling that bundle took 0.7–0.8 s of main-thread time on every load
whose compiled code was not cached, which was most of a chart page's first render. The dashboard instead
serves ``assets/plotly-cartesian.min.js`` — the official ``plotly.js-cartesian-dist-min`` build of the
*same* plotly.js version (1.4 MB; see ``assets/README.md`` for its source, version and sha256) — by
pinning ``window._dashPlotlyJSURL`` to it before the renderer starts (:func:`pin_script`).

The cartesian bundle holds the trace types in :data:`TRACE_TYPES`; every figure in
:mod:`dashboard.figures` uses only those (a test checks it), so the radar is drawn as a polygon on
cartesian axes rather than as a ``scatterpolar`` trace.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
BUNDLE = "plotly-cartesian.min.js"
# Kept out of Dash's automatic <script> tags (it is loaded lazily, by dcc.Graph, on pages with a graph).
ASSETS_IGNORE = r"^plotly-cartesian\.min\.js$"
# The trace modules of plotly.js-cartesian-dist (its README lists them).
TRACE_TYPES = frozenset(
    {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image", "pie",
     "scatter", "scatterternary", "violin"}
)  # fmt: skip


def bundle_path() -> Path:
    """The vendored bundle on disk."""
    return ASSETS / BUNDLE


def bundle_version(path: Path | None = None) -> str:
    """The plotly.js version in the bundle's licence header (``* plotly.js (cartesian - minified) v3.7.0``)."""
    with (path or bundle_path()).open(encoding="utf-8") as handle:
        head = handle.read(400)
    match = re.search(r"plotly\.js \(cartesian - minified\) v(\d+\.\d+\.\d+)", head)
    if not match:
        raise ValueError(
            f"{path or bundle_path()} does not start with the plotly.js cartesian licence header"
        )
    return match.group(1)


def bundle_sha256(path: Path | None = None) -> str:
    """The sha256 of the vendored bundle (recorded in ``assets/README.md``)."""
    return hashlib.sha256((path or bundle_path()).read_bytes()).hexdigest()


def pin_script(url: str) -> str:
    """Inline JavaScript making ``dcc.Graph`` load plotly.js from ``url``.

    Dash's renderer assigns ``window._dashPlotlyJSURL`` when it mounts; a property whose setter ignores
    that assignment keeps ``url``. Must run before the renderer (the app puts it after ``{%config%}``).

    >>> pin_script("/assets/p.js").startswith('(function(){var url="/assets/p.js";')
    True
    """
    return (
        "(function(){var url=" + json.dumps(url) + ";"
        'Object.defineProperty(window,"_dashPlotlyJSURL",'
        "{configurable:true,get:function(){return url;},set:function(){}});})();"
    )
