"""Small reusable pieces of page layout: chips, banners, empty states, grids, graphs, export buttons.

Everything here builds Dash components; stored text is passed as component text, never as HTML or Markdown.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

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


def status_text(status: str | None, lang: str) -> str:
    """A status as its chip reads: icon and words (``✔ 已达标``).

    >>> status_text("on_track", "en"), status_text(None, "en")
    ('▲ On track', '? Not assessed')
    """
    key = status if status in STATUS_STYLE else "unknown"
    return f"{STATUS_STYLE[key][0]} {t(f'status.{key}', lang)}"


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


@dataclass(frozen=True)
class GridColumn:
    """One column of a :func:`grid`.

    Attributes:
        field: the row key the column shows (usually a frame column).
        label: the label key of its header (see :mod:`dashboard.i18n`); ``raw_label`` shows it as is.
        text: the cell's text from the whole row (default: the field's value as text, None as "—").
        renderer: a cell renderer of ``assets/dashAgGridComponentFunctions.js`` (``AppLink``,
            ``ExternalLink``, ``StatusChip``, ``FillBar``, ``RankInterval``) or None for plain text.
        params: the renderer's parameters (e.g. ``{"hrefField": "name_href", "className": "kpi-link"}``).
        extra: more row keys the renderer reads (a link's address, a status key, a fraction), from the row.
        raw_label: show ``label`` as the header text instead of translating it.
    """

    field: str
    label: str
    text: Callable[[dict[str, Any]], Any] | None = None
    renderer: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    raw_label: bool = False


def cell_text(value: Any) -> str:
    """A value as cell text; None is an em dash.

    >>> cell_text(None), cell_text(3), cell_text("<b>")
    ('—', '3', '<b>')
    """
    return "—" if value is None else str(value)


def grid_rows(frame: pl.DataFrame, columns: Sequence[GridColumn]) -> list[dict[str, Any]]:
    """The ``rowData`` of a grid: per row, each column's text and the extra keys its renderer reads.

    >>> cols = [GridColumn("a", "col.kpi", text=lambda r: r["a"] * 2, extra=lambda r: {"a_href": f"/x/{r['a']}"})]
    >>> grid_rows(pl.DataFrame({"a": [1]}), cols)
    [{'a': '2', 'a_href': '/x/1'}]
    """
    rows = []
    for row in frame.iter_rows(named=True):
        out: dict[str, Any] = {}
        for col in columns:
            out[col.field] = cell_text(col.text(row) if col.text else row.get(col.field))
            if col.extra:
                out.update(col.extra(row))
        rows.append(out)
    return rows


def grid(
    frame: pl.DataFrame,
    columns: Sequence[GridColumn],
    lang: str,
    *,
    grid_id: str,
    max_rows: int = 200,
) -> html.Div:
    """A dash-ag-grid table of ``frame`` (the first ``max_rows`` rows; a note says how many more there are).

    Cells hold text (React text nodes, never markup); links, status chips and bars come from the cell
    renderers in ``assets/dashAgGridComponentFunctions.js``. The grid grows with its rows
    (``domLayout: autoHeight``), so every shown row is in the page.

    Args:
        frame: the rows to show, in order.
        columns: the columns (see :class:`GridColumn`).
        lang: ``"zh"`` or ``"en"``.
        grid_id: DOM id of the grid.
        max_rows: rows shown.

    Returns:
        A div holding the grid, or the empty-rows state.
    """
    if frame.height == 0:
        return html.Div(empty_state(t("empty.rows", lang)), id=f"{grid_id}-empty")
    column_defs = []
    for col in columns:
        spec: dict[str, Any] = {
            "field": col.field,
            "headerName": col.label if col.raw_label else t(col.label, lang),
        }
        if col.renderer:
            spec["cellRenderer"] = col.renderer
            spec["cellRendererParams"] = dict(col.params)
        column_defs.append(spec)
    parts: list[Any] = [
        dag.AgGrid(
            id=grid_id,
            rowData=grid_rows(frame.head(max_rows), columns),
            columnDefs=column_defs,
            defaultColDef={"sortable": False, "resizable": True, "suppressMovable": True},
            dashGridOptions={"domLayout": "autoHeight", "suppressCellFocus": True,
                             "suppressColumnVirtualisation": True, "enableCellTextSelection": True},
            columnSize="autoSize",
            className="ag-theme-quartz dtscope-grid",
            style={"height": None},
        )
    ]  # fmt: skip
    if frame.height > max_rows:
        parts.append(
            html.Small(t("table.truncated", lang, n=max_rows, total=frame.height), className="text-muted")
        )
    return html.Div(parts)


def rank_bar_spans(rank: int, lo: int, hi: int, n: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where the rank interval bar draws its band [lo, hi] and its tick at ``rank``, in percent of its width.

    >>> rank_bar_spans(5, 3, 8, 11)
    ((20.0, 70.0), (40.0, 41.2))
    """
    scale = 100.0 / max(n - 1, 1)
    a, b = (lo - 1) * scale, max((hi - 1) * scale, (lo - 1) * scale + 1.5)
    r = (rank - 1) * scale
    return (round(a, 1), round(b, 1)), (round(r, 1), round(r + 1.2, 1))


def api_stores(prefix: str, urls: dict[str, str]) -> list[dcc.Store]:
    """The stores through which a page reads the service's API in the browser: ``<prefix>-urls`` (the GET
    addresses, by key), ``<prefix>-refresh`` (a counter a callback bumps to read them again) and
    ``<prefix>-data`` (the answers, by key, each ``{"status", "body"}``); :func:`load_from_api` fills them."""
    return [
        dcc.Store(id=f"{prefix}-urls", data=urls),
        dcc.Store(id=f"{prefix}-refresh", data=0),
        dcc.Store(id=f"{prefix}-data"),
    ]


def load_from_api(prefix: str) -> None:
    """Register the client-side callback (``rounds.load`` of ``assets/rounds.js``) that fetches the addresses of
    ``<prefix>-urls`` into ``<prefix>-data`` when the page loads and whenever ``<prefix>-refresh`` changes.

    Call it once, at the import of the page that shows :func:`api_stores` with that prefix.
    """
    clientside_callback(
        ClientsideFunction(namespace="rounds", function_name="load"),
        Output(f"{prefix}-data", "data"),
        Input(f"{prefix}-refresh", "data"),
        State(f"{prefix}-urls", "data"),
    )


def api_writer(prefix: str, csrf_token: str | None) -> list[dcc.Store]:
    """The stores through which a page writes to the service's API from the browser: ``<prefix>-request`` (a
    request a Python callback builds: ``{action, method, url, body}``), ``<prefix>-response`` (the answer,
    ``{action, status, body, at}``) and ``<prefix>-csrf`` (the session's CSRF token, sent as ``X-CSRFToken``);
    :func:`send_to_api` sends them."""
    return [
        dcc.Store(id=f"{prefix}-csrf", data=csrf_token or ""),
        dcc.Store(id=f"{prefix}-request"),
        dcc.Store(id=f"{prefix}-response"),
    ]


def send_to_api(prefix: str) -> None:
    """Register the client-side callback (``rounds.send`` of ``assets/rounds.js``) that sends each request of
    ``<prefix>-request`` with the session cookie and CSRF token and puts the answer into ``<prefix>-response``.

    Call it once, at the import of the page that shows :func:`api_writer` with that prefix; the API checks
    role, scope and state and audits the write, so the page keeps no write path of its own.
    """
    clientside_callback(
        ClientsideFunction(namespace="rounds", function_name="send"),
        Output(f"{prefix}-response", "data"),
        Input(f"{prefix}-request", "data"),
        State(f"{prefix}-csrf", "data"),
        prevent_initial_call=True,
    )


@dataclass(frozen=True)
class FilteredPage:
    """A page of controls over a table (the overview's KPI grid, the scenario league table): the parts a
    control re-renders, each in a div ``<prefix>-<part>``, and a store ``<prefix>-url-sync`` for :func:`sync_url`.

    Top to bottom: the synthetic-data banner, the header, the controls, the count line, the download buttons,
    the table, then the page's ``more`` parts.

    Attributes:
        prefix: the page's id prefix.
        more: the page's own parts after the table (e.g. a chart), by name.
    """

    prefix: str
    more: tuple[str, ...] = ()
    PARTS: ClassVar[tuple[str, ...]] = ("table", "banner", "export", "count")

    def layout(self, header: Any, controls: Any, shown: dict[str, Any], *, page_class: str) -> html.Div:
        """The page; ``shown`` holds each part's content (:attr:`PARTS` and :attr:`more`)."""

        def part(name: str, class_name: str | None = None) -> html.Div:
            return html.Div(shown[name], id=f"{self.prefix}-{name}", className=class_name)

        return html.Div(
            [part("banner"), header, controls, part("count", "text-muted mb-2"), part("export"), part("table"),
             *[part(name, "mt-4") for name in self.more],
             dcc.Store(id=f"{self.prefix}-url-sync")],
            className=f"page {page_class}",
        )  # fmt: skip

    @staticmethod
    def unpublished(title: str, table: str, lang: str) -> html.Div:
        """The page before ``table`` is published: its title and the empty state naming the table."""
        return html.Div([page_header(title), empty_state(t("empty.table", lang, table=table))])

    def outputs(self) -> list[Output]:
        """The outputs of the callback that re-renders the parts; it answers with :meth:`contents`."""
        return [Output(f"{self.prefix}-{part}", "children") for part in (*self.PARTS, *self.more)]

    def contents(self, shown: dict[str, Any]) -> tuple[Any, ...]:
        """``shown``'s contents in the order of :meth:`outputs`."""
        return tuple(shown[part] for part in (*self.PARTS, *self.more))

def sync_url(prefix: str, params: Sequence[tuple[str, str, Any]], *, keep: bool = False) -> None:
    """Register the client-side callback that keeps the address bar's query in step with a page's controls
    (``url.sync`` of ``assets/url_sync.js``), without re-rendering the page, so the view can be shared.

    Call it once, at the import of a page that has a ``<prefix>-url-sync`` store (the callback's output).

    Args:
        prefix: the page's id prefix.
        params: per control, ``(component id, query parameter, default)``: the control's ``value`` goes into
            the query (a list comma-separated), left out when empty or equal to the default.
        keep: keep the query's other parameters (else the query holds only these).
    """
    spec = json.dumps({"params": [[name, default] for _, name, default in params], "keep": keep})
    clientside_callback(
        f"function(...values) {{ return window.dash_clientside.url.sync(...values, {spec}); }}",
        Output(f"{prefix}-url-sync", "data"),
        *[Input(component, "value") for component, _, _ in params],
        prevent_initial_call=True,
    )
