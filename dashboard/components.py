"""Small reusable pieces of page layout: chips, banners, empty states, tables, graphs, export buttons."""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import dcc, html

from dashboard.i18n import t

# Okabe–Ito colours, each status also has its own icon and text, so colour is never the only cue.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "achieved": ("✔", "#0072B2"),
    "on_track": ("▲", "#009E73"),
    "at_risk": ("⚠", "#E69F00"),
    "off_track": ("✖", "#D55E00"),
    "unknown": ("?", "#6c757d"),
}

# Plotly's own interface strings in Chinese and a Chinese date format, passed with each graph's
# config so nothing is fetched from a CDN (the plotly wheel ships no locale files).
PLOTLY_ZH_CN: dict[str, Any] = {
    "dictionary": {
        "Autoscale": "自动缩放",
        "Box Select": "框选",
        "Double-click on legend to isolate one trace": "双击图例只显示该序列",
        "Double-click to zoom back out": "双击恢复原始大小",
        "Download plot as a PNG": "下载为 PNG 图片",  # plotly.js 3 writes "PNG"
        "Download plot": "下载图表",
        "Lasso Select": "套索选择",
        "Pan": "平移",
        "Produced with Plotly.js": "由 Plotly.js 生成",
        "Reset": "重置",
        "Reset axes": "重置坐标轴",
        "Reset view": "重置视图",
        "Show closest data on hover": "悬停显示最近的数据",
        "Compare data on hover": "悬停比较数据",
        "Snapshot succeeded": "截图成功",
        "Sorry, there was a problem downloading your snapshot!": "抱歉，下载截图时出错",
        "Taking snapshot - this may take a few seconds": "正在截图，请稍候",
        "Toggle Spike Lines": "切换辅助线",
        "Toggle show closest data on hover": "切换悬停显示最近的数据",
        "Zoom": "缩放",
        "Zoom in": "放大",
        "Zoom out": "缩小",
        "trace": "序列",
    },
    "format": {
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "months": [f"{m}月" for m in range(1, 13)],
        "shortMonths": [f"{m}月" for m in range(1, 13)],
        "date": "%Y-%m-%d",
        "decimal": ".",
        "thousands": ",",
    },
}


def graph_config(lang: str) -> dict[str, Any]:
    """The ``dcc.Graph`` config: plotly's locale for ``lang`` (zh-CN registered inline), no logo.

    >>> graph_config("zh")["locale"], graph_config("en")["locale"]
    ('zh-CN', 'en')
    """
    return {
        "locale": "zh-CN" if lang == "zh" else "en",
        "locales": {"zh-CN": PLOTLY_ZH_CN},
        "displaylogo": False,
        "responsive": True,
    }


def graph(fig: go.Figure, lang: str, graph_id: str | dict[str, str] | None = None) -> dcc.Graph:
    """A ``dcc.Graph`` for ``fig`` with the language's plotly locale."""
    kwargs: dict[str, Any] = {"figure": fig, "config": graph_config(lang)}
    if fig.layout.height:
        # the container takes the figure's height, so a short chart neither stretches to dcc.Graph's
        # default 450 px nor spills over what follows it
        kwargs["style"] = {"height": f"{fig.layout.height}px"}
    if graph_id is not None:
        kwargs["id"] = graph_id
    return dcc.Graph(**kwargs)


def html_attrs(values: dict[str, str]) -> dict[str, Any]:
    """``data-*`` / ``aria-*`` attributes, which Dash accepts as keyword arguments but its stubs do not type."""
    return values


def status_chip(status: str | None, lang: str) -> html.Span:
    """A status chip: icon + text on a colour-blind-safe background (``data-status`` for tests)."""
    key = status if status in STATUS_STYLE else "unknown"
    icon, colour = STATUS_STYLE[key]
    label = t(f"status.{key}", lang)
    # One node per chip: the grid shows hundreds of them and Dash's renderer cost grows with node count.
    return html.Span(
        f"{icon} {label}",
        className=f"status-chip status-{key}",
        style={"backgroundColor": colour},
        title=label,
        **html_attrs({"data-status": key}),
    )


def obligation_text(obligation: str | None, lang: str) -> str:
    """约束性 (binding, filled ■) or 预期性 (expected, outlined □) as text.

    >>> obligation_text("binding", "zh"), obligation_text(None, "en")
    ('■\xa0约束性', '—')
    """
    if obligation not in ("binding", "expected"):
        return "—"
    icon = "■" if obligation == "binding" else "□"
    return f"{icon}\u00a0{t(f'obligation.{obligation}', lang)}"  # no break between icon and word


def obligation_badge(obligation: str | None, lang: str) -> html.Span:
    """The obligation as a styled span (bold when binding)."""
    return html.Span(
        obligation_text(obligation, lang),
        className=f"obligation obligation-{obligation}",
        **html_attrs({"data-obligation": str(obligation)}),
    )


def synthetic_banner(lang: str) -> dbc.Alert:
    """The SYNTHETIC DATA banner shown over any synthetic-demo rows."""
    return dbc.Alert(
        [html.Strong("⚠ SYNTHETIC DATA · 合成数据 "), t("banner.synthetic", lang)],
        color="warning",
        id="synthetic-banner",
        className="synthetic-banner",
    )


def empty_state(message: str) -> dbc.Alert:
    """A calm empty state (a missing table is normal before the first run)."""
    return dbc.Alert(message, color="secondary", className="empty-state")


def page_header(title: str, lead: str | None = None) -> html.Div:
    return html.Div(
        [html.H2(title, className="page-title"), html.P(lead, className="lead") if lead else None]
    )


def export_bar(table: str, lang: str, *, region: str | None = None, brief: bool = False) -> html.Div:
    """CSV / Excel download buttons for ``table`` (and the leadership brief when ``brief``).

    The button ids carry the table and the region filter; one app-wide callback serves them.
    """
    base = {"type": "download-btn", "table": table, "region": region or "all"}
    buttons = [
        dbc.Button(t("export.csv", lang), id={**base, "fmt": "csv"}, size="sm", color="secondary", outline=True,
                   className="me-2 download-csv"),
        dbc.Button(t("export.excel", lang), id={**base, "fmt": "xlsx"}, size="sm", color="secondary", outline=True,
                   className="me-2 download-xlsx"),
    ]  # fmt: skip
    if brief:
        buttons.append(
            dbc.Button(t("export.brief", lang), id={**base, "fmt": "brief"}, size="sm", color="primary",
                       outline=True, className="download-brief")
        )  # fmt: skip
    return html.Div(buttons, className="export-bar my-2")


# A cell renderer gets the value and the whole row and returns HTML text (escape what it inserts).
Column = tuple[str, str, Callable[[Any, dict[str, Any]], str] | None]


def esc(value: Any) -> str:
    """HTML-escaped text of a value; None is an em dash.

    >>> esc("<b>"), esc(None), esc(3)
    ('&lt;b&gt;', '—', '3')
    """
    return "—" if value is None else html_lib.escape(str(value))


def link_html(text: Any, href: str, css_class: str = "", *, external: bool = False) -> str:
    """An anchor; internal ones carry ``data-spa`` so ``assets/spa_links.js`` navigates without a reload.

    >>> link_html("5G", "/kpi/5g?region=pudong", "kpi-link")
    '<a href="/kpi/5g?region=pudong" class="kpi-link" data-spa="1">5G</a>'
    """
    extra = ' target="_blank" rel="noopener"' if external else ' data-spa="1"'
    return f'<a href="{html_lib.escape(href)}" class="{css_class}"{extra}>{esc(text)}</a>'


def chip_html(status: str | None, lang: str) -> str:
    """The status chip as HTML (same look as :func:`status_chip`)."""
    key = status if status in STATUS_STYLE else "unknown"
    icon, colour = STATUS_STYLE[key]
    label = esc(t(f"status.{key}", lang))
    return (f'<span class="status-chip status-{key}" data-status="{key}" title="{label}" '
            f'style="background-color:{colour}">{icon} {label}</span>')  # fmt: skip


def bar_html(text: str, fraction: float, css_class: str, colour: str = "#bcd9ee") -> str:
    """A cell whose background fills ``fraction`` of its width (probabilities).

    >>> bar_html("50%", 0.5, "p-cell")
    '<div class="p-cell" style="background:linear-gradient(90deg, #bcd9ee 50%, #eef1f4 50%)">50%</div>'
    """
    fill = f"{max(0.0, min(1.0, fraction)) * 100:.0f}%"
    return f'<div class="{css_class}" style="background:linear-gradient(90deg, {colour} {fill}, #eef1f4 {fill})">{esc(text)}</div>'


def data_table(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    lang: str,
    *,
    max_rows: int = 200,
    table_id: str | None = None,
) -> html.Div:
    """An HTML table of ``frame``, rendered as one Dash component.

    Dash's renderer spends about a millisecond per component, so a table built from ``html.Td``
    components takes seconds to update at a few hundred rows; the whole table is therefore one
    ``dcc.Markdown`` holding escaped HTML.

    Args:
        frame: the rows to show.
        columns: (column, label key, renderer or None) triples; a renderer returns HTML text (see
            :data:`Column`); without one the value is escaped text.
        lang: ``"zh"`` or ``"en"``.
        max_rows: rows shown; a note says how many more there are.
        table_id: DOM id of the ``<table>``.

    Returns:
        A div holding the table (or the empty-rows state).
    """
    if frame.height == 0:
        return html.Div(empty_state(t("empty.rows", lang)), id=f"{table_id}-empty" if table_id else "")
    head = "".join(f"<th>{esc(t(label, lang))}</th>" for _, label, _ in columns)
    body = []
    for row in frame.head(max_rows).iter_rows(named=True):
        cells = "".join(
            f"<td>{render(row.get(column), row) if render else esc(row.get(column))}</td>"
            for column, _, render in columns
        )
        body.append(f"<tr>{cells}</tr>")
    id_attr = f' id="{html_lib.escape(table_id)}"' if table_id else ""
    table = (f'<table{id_attr} class="table table-sm table-hover align-middle data-table">'
             f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")  # fmt: skip
    parts: list[Any] = [dcc.Markdown(table, dangerously_allow_html=True, className="table-responsive")]
    if frame.height > max_rows:
        parts.append(
            html.Small(t("table.truncated", lang, n=max_rows, total=frame.height), className="text-muted")
        )
    return html.Div(parts)


def rank_bar_style(rank: int, lo: int, hi: int, n: int) -> dict[str, str]:
    """CSS background drawing the interval [lo, hi] out of ``n`` and a dark tick at ``rank``.

    >>> rank_bar_style(5, 3, 8, 11)["background"]  # doctest: +NORMALIZE_WHITESPACE
    'linear-gradient(90deg, transparent 40.0%, #000 40.0%, #000 41.2%, transparent 41.2%),
     linear-gradient(90deg, transparent 20.0%, #56B4E9 20.0%, #56B4E9 70.0%, transparent 70.0%), #eef1f4'
    """
    scale = 100.0 / max(n - 1, 1)
    a, b = (lo - 1) * scale, max((hi - 1) * scale, (lo - 1) * scale + 1.5)
    r = (rank - 1) * scale
    band = f"linear-gradient(90deg, transparent {a:.1f}%, #56B4E9 {a:.1f}%, #56B4E9 {b:.1f}%, transparent {b:.1f}%)"
    tick = f"linear-gradient(90deg, transparent {r:.1f}%, #000 {r:.1f}%, #000 {r + 1.2:.1f}%, transparent {r + 1.2:.1f}%)"
    return {"background": f"{tick}, {band}, #eef1f4"}


def rank_bar_html(rank: int | None, lo: int | None, hi: int | None, n: int) -> str:
    """The rank interval [lo, hi] out of ``n`` as a bar (tick at ``rank``) labelled "lo–hi"."""
    if rank is None or n <= 0:
        return "—"
    lo = lo if lo is not None else rank
    hi = hi if hi is not None else rank
    return f'<div class="rank-bar" style="background:{rank_bar_style(rank, lo, hi, n)["background"]}">{lo}–{hi}</div>'
