"""``/models`` — data scientists: backtest metrics, calibration, champion vs challengers, MLflow links."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboard import context
from dashboard.components import GridColumn, empty_state, export_bar, graph, grid, page_header
from dashboard.figures import backtest_chart, calibration_chart
from dashboard.i18n import t
from dashboard.routes import register_page
from dashboard.views import SUMMARY_METRICS, champion_table

register_page(__name__)


def run_columns(alias: dict[str, str]) -> list[GridColumn]:
    """The runs table's columns: the run id links to its MLflow run."""
    return [
        GridColumn("run_id", "col.run", renderer="ExternalLink", params={"hrefField": "mlflow_url", "className": "mlflow-link"},
                   extra=lambda r: {"mlflow_url": r["mlflow_url"]}),
        GridColumn("run_name", "col.model"),
        GridColumn("kind", "col.kind", text=lambda r: r["kind"] or None),
        GridColumn("status", "col.status_run"),
        GridColumn("alias", "col.alias", text=lambda r: alias.get(r["alias"], "—")),
        GridColumn("start_time", "col.start", text=lambda r: r["start_time"].strftime("%Y-%m-%d %H:%M") if r["start_time"] else None),
    ]  # fmt: skip


def layout(lang: str = "zh", metric: str = "crps", kind: str = "all", **_: Any) -> html.Div:
    """The models page; ``metric`` and ``kind`` of the backtest chart come from the URL."""
    lang = lang or "zh"
    published = context.tables()
    runs = published.read("runs")
    metrics = published.read("backtest_metrics")
    calibration = published.read("calibration")
    parts: list[Any] = [page_header(t("models.title", lang), t("models.lead", lang))]
    mlflow = context.mlflow_ui_url()
    if mlflow:
        parts.append(
            html.A(t("models.open_mlflow", lang), href=mlflow, target="_blank", className="btn btn-link")
        )
    if runs is None:
        parts.append(empty_state(t("empty.table", lang, table="runs")))
    else:
        champs = champion_table(runs, metrics)
        alias = {"production": t("models.production", lang), "challenger": t("models.challenger", lang)}
        parts += [
            html.H4(f"{t('models.production', lang)} / {t('models.challenger', lang)}"),
            html.P(t("models.metrics_note", lang), className="text-muted"),
            _metric_header_table(champs, [m for m in SUMMARY_METRICS if m in champs.columns], alias, lang),
            html.H4(t("models.runs", lang), className="mt-3"),
            export_bar("runs", lang),
            grid(runs.sort("start_time", descending=True, nulls_last=True), run_columns(alias), lang,
                 grid_id="runs-table"),
        ]  # fmt: skip
    if metrics is None:
        parts.append(empty_state(t("empty.table", lang, table="backtest_metrics")))
    else:
        metric_names = sorted(set(metrics["metric"].to_list()))
        kinds = sorted(set(metrics["kind"].to_list()))
        metric = metric if metric in metric_names else (metric_names[0] if metric_names else "")
        kind = kind if kind in kinds else "all"
        parts += [
            dbc.Row(
                [
                    dbc.Col([dbc.Label(t("models.metric", lang)), dcc.Dropdown(
                        id="models-metric", options=metric_names, value=metric, clearable=False)], md=3),
                    dbc.Col([dbc.Label(t("models.kind", lang)), dcc.Dropdown(
                        id="models-kind", clearable=False, value=kind,
                        options=[{"label": t("filter.all", lang), "value": "all"}] + [{"label": k, "value": k} for k in kinds])], md=3),
                ],
                className="g-2 mt-3 controls",
            ),
            html.Div(graph(backtest_chart(metrics, metric, kind, lang), lang, "backtest-graph"), id="models-backtest"),
            export_bar("backtest_metrics", lang),
        ]  # fmt: skip
    if calibration is None:
        parts.append(empty_state(t("empty.table", lang, table="calibration")))
    else:
        parts += [
            graph(calibration_chart(calibration, lang), lang, "calibration-graph"),
            export_bar("calibration", lang),
        ]
    return html.Div(parts, className="page page-models")


def _metric_header_table(
    champs: pl.DataFrame, metric_names: list[str], alias: dict[str, str], lang: str
) -> Any:
    """Champion/challenger table, one row per run and KPI kind; metric columns are headed by the metric's name."""
    if champs.height == 0:
        return empty_state(t("empty.rows", lang))
    head = html.Thead(html.Tr([html.Th(t("col.run", lang)), html.Th(t("col.model", lang)), html.Th(t("col.alias", lang)),
                               html.Th(t("col.kind", lang)), *[html.Th(m) for m in metric_names]]))  # fmt: skip
    body = []
    for row in champs.iter_rows(named=True):
        url = row.get("mlflow_url")
        run = (
            html.A(row["run_id"], href=url, target="_blank", className="mlflow-link")
            if url
            else row["run_id"]
        )
        cells = [html.Td(run), html.Td(row["run_name"] or "—"),
                 html.Td(html.Span(alias.get(row["alias"], "—"), className=f"alias alias-{row['alias']}")),
                 html.Td(row["kind"] or "—")]  # fmt: skip
        cells += [html.Td("—" if row.get(m) is None else f"{row[m]:.3f}") for m in metric_names]
        body.append(html.Tr(cells))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm data-table", id="champion-table"),
                    className="table-responsive")  # fmt: skip


@callback(
    Output("models-backtest", "children"),
    Input("models-metric", "value"),
    Input("models-kind", "value"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def update_backtest(metric: str, kind: str, lang: str) -> Any:
    """Redraw the backtest chart for the chosen metric and KPI kind."""
    metrics = context.tables().read("backtest_metrics")
    if metrics is None:
        return empty_state(t("empty.table", lang, table="backtest_metrics"))
    return graph(backtest_chart(metrics, metric, kind, lang), lang, "backtest-graph")
