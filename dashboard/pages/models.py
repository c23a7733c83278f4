"""``/models`` — data scientists: backtest metrics, calibration, champion vs challengers, MLflow links."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, dcc, html

from dashboard import context
from dashboard.components import data_table, empty_state, esc, export_bar, graph, link_html, page_header
from dashboard.figures import backtest_chart, calibration_chart
from dashboard.i18n import t
from dashboard.wiring import callback

PATH = "/models"
SUMMARY_METRICS = ("crps", "mase", "coverage80", "coverage95", "brier")


def champion_table(runs: pl.DataFrame, metrics: pl.DataFrame | None) -> pl.DataFrame:
    """Champion and challenger runs with their mean backtest metrics (one column per metric).

    Args:
        runs: the ``runs`` table.
        metrics: the ``backtest_metrics`` table, or None.

    Returns:
        ``run_id, run_name, alias, mlflow_url`` plus one Float64 column per metric in
        :data:`SUMMARY_METRICS` that the metrics table has; champion first.

    >>> runs = pl.DataFrame({"run_id": ["a", "b", "c"], "run_name": ["x", "y", "z"],
    ...     "alias": ["challenger", "champion", None], "mlflow_url": [None, None, None]})
    >>> m = pl.DataFrame({"run_id": ["a", "b"], "metric": ["crps", "crps"], "value": [2.0, 1.0]})
    >>> champion_table(runs, m).select("run_id", "crps").rows()
    [('b', 1.0), ('a', 2.0)]
    """
    ranked = runs.filter(pl.col("alias").is_not_null()).select("run_id", "run_name", "alias", "mlflow_url")
    if metrics is not None and metrics.height:
        wide = (
            metrics.filter(pl.col("metric").is_in(SUMMARY_METRICS))
            .group_by("run_id", "metric")
            .agg(pl.col("value").mean())
            .pivot(on="metric", index="run_id", values="value")
        )
        ranked = ranked.join(wide, on="run_id", how="left")
    order = pl.when(pl.col("alias") == "champion").then(0).otherwise(1)
    return ranked.with_columns(order.alias("_o")).sort("_o", "run_id").drop("_o")


def _link(value: Any, row: dict[str, Any]) -> str:
    url = row.get("mlflow_url")
    return link_html(value, url, "mlflow-link", external=True) if url else esc(value)


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
        metric_cols = [(m, "models.metric", (lambda v, _: "—" if v is None else f"{v:.3f}")) for m in SUMMARY_METRICS
                       if m in champs.columns]  # fmt: skip
        alias = {"champion": t("models.champion", lang), "challenger": t("models.challenger", lang)}
        parts += [
            html.H4(f"{t('models.champion', lang)} / {t('models.challenger', lang)}"),
            _metric_header_table(champs, metric_cols, alias, lang),
            html.H4(t("models.runs", lang), className="mt-3"),
            export_bar("runs", lang),
            data_table(
                runs.sort("start_time", descending=True, nulls_last=True),
                [
                    ("run_id", "col.run", _link), ("run_name", "col.model", None), ("kind", "col.kind", None),
                    ("status", "col.status_run", None), ("alias", "col.alias", lambda v, _: esc(alias.get(v, "—"))),
                    ("start_time", "col.start", lambda v, _: v.strftime("%Y-%m-%d %H:%M") if v else "—"),
                ],
                lang,
                table_id="runs-table",
            ),
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
    champs: pl.DataFrame, metric_cols: list[Any], alias: dict[str, str], lang: str
) -> html.Div:
    """Champion/challenger table; metric columns are headed by the metric's own name."""
    if champs.height == 0:
        return empty_state(t("empty.rows", lang))
    head = html.Thead(html.Tr([html.Th(t("col.run", lang)), html.Th(t("col.model", lang)), html.Th(t("col.alias", lang)),
                               *[html.Th(m) for m, _, _ in metric_cols]]))  # fmt: skip
    body = []
    for row in champs.iter_rows(named=True):
        url = row.get("mlflow_url")
        run = (
            html.A(row["run_id"], href=url, target="_blank", className="mlflow-link")
            if url
            else row["run_id"]
        )
        cells = [html.Td(run), html.Td(row["run_name"] or "—"),
                 html.Td(html.Span(alias.get(row["alias"], "—"), className=f"alias alias-{row['alias']}"))]  # fmt: skip
        cells += [html.Td(render(row.get(m), row)) for m, _, render in metric_cols]
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
