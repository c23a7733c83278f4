"""Downloads: any table as CSV or Excel, and the one-page leadership brief (self-contained HTML from a
Jinja2 template with autoescaping, ``templates/brief.html.j2``)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dashboard.components import STATUS_STYLE, status_text
from dashboard.i18n import format_pct, format_value, region_name, t
from dashboard.views import kpi_sentence, reliability_sentence, shows_probability, target_text


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) become text so every format can hold them."""
    nested = [c for c, d in frame.schema.items() if d.is_nested()]
    return frame.with_columns(pl.col(c).cast(pl.String, strict=False) for c in nested) if nested else frame


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"); tab and
# carriage return too, as some spreadsheets strip them first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (shown as text).

    Numbers stay numbers (a negative number is a number, not a formula). The argument is not modified.

    >>> neutralise_formulas(pl.DataFrame({"a": ["=1+2", "@SUM(A1)", "-x", "ok"], "v": [-1, 2, 3, 4]})).rows()
    [("'=1+2", -1), ("'@SUM(A1)", 2), ("'-x", 3), ('ok', 4)]
    """
    text = [c for c, d in frame.schema.items() if d == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(s) for s in FORMULA_STARTS]))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel opens Chinese text correctly; formulas neutralised.

    >>> to_csv_bytes(pl.DataFrame({"指标": ["覆盖率"], "value": [1.5]}))[:3] == b"\\xef\\xbb\\xbf"
    True
    """
    return b"\xef\xbb\xbf" + neutralise_formulas(_flat(frame)).write_csv().encode("utf-8")


def to_excel_bytes(frame: pl.DataFrame, sheet: str = "data") -> bytes:
    """One-sheet .xlsx of ``frame`` (the sheet name cut to Excel's 31 characters), formulas neutralised."""
    buffer = io.BytesIO()
    neutralise_formulas(_flat(frame)).write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()


def sparkline(
    history: Sequence[tuple[float, float]],
    forecast: Sequence[tuple[float, float]] = (),
    target: tuple[float, float] | None = None,
    *,
    width: int = 140,
    height: int = 32,
) -> dict[str, Any] | None:
    """The geometry of a tiny sparkline: history (solid), median forecast (dashed), target (a diamond).

    Args:
        history: (year, value) points.
        forecast: (year, median) points.
        target: (target year, target value) or None.
        width, height: size in pixels.

    Returns:
        ``width, height`` and the SVG ``points`` of the ``history`` and ``forecast`` polylines and the
        ``target`` diamond's path (each "" when absent), or None when there is nothing to draw.

    >>> s = sparkline([(2020, 1.0), (2021, 2.0)], [(2022, 3.0)], (2022, 4.0))
    >>> s["history"], s["forecast"].split()[0] == s["history"].split()[-1], s["target"][:1]
    ('3.0,29.0 70.0,20.3', True, 'M')
    """
    points = [*history, *forecast, *([target] if target else [])]
    if not points:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = 3

    def sx(x: float) -> float:
        return pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - y0) / ((y1 - y0) or 1) * (height - 2 * pad)

    def line(pts: Sequence[tuple[float, float]]) -> str:
        return " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)

    # The dashed forecast starts at the last observed point, so the two lines join.
    fc = [history[-1], *forecast] if forecast and history else list(forecast)
    diamond = ""
    if target:
        cx, cy = sx(target[0]), sy(target[1])
        diamond = (
            f"M{cx:.1f},{cy - 4:.1f} L{cx + 4:.1f},{cy:.1f} L{cx:.1f},{cy + 4:.1f} L{cx - 4:.1f},{cy:.1f} Z"
        )
    return {
        "width": width,
        "height": height,
        "history": line(history),
        "forecast": line(fc),
        "target": diamond,
    }


_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,  # every value is text; nothing stored is ever markup
    undefined=StrictUndefined,
    trim_blocks=True,
)


def _series(
    key: tuple[str, str], model: str | None, forecasts: pl.DataFrame | None, observations: pl.DataFrame | None
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(history, median forecast) points of one KPI and region for its sparkline."""
    hist: list[tuple[float, float]] = []
    if observations is not None:
        h = observations.filter((pl.col("kpi_id") == key[0]) & (pl.col("region") == key[1])).sort("period")
        hist = [(d.year + (d.month - 1) / 12, v) for d, v in zip(h["period"], h["value"], strict=True)]
    fc: list[tuple[float, float]] = []
    if forecasts is not None:
        f = forecasts.filter((pl.col("kpi_id") == key[0]) & (pl.col("region") == key[1]))
        if model:
            f = f.filter(pl.col("model") == model)
        elif f.height:
            f = f.filter(pl.col("model") == f["model"][0])
        f = f.sort("period")
        fc = [(float(p), v) for p, v in zip(f["period"], f["q0.5"], strict=True)]
    return hist, fc


def leadership_brief_html(
    grid: pl.DataFrame,
    forecasts: pl.DataFrame | None,
    observations: pl.DataFrame | None,
    lang: str,
    *,
    region: str | None = None,
    generated: datetime | None = None,
    calibration: pl.DataFrame | None = None,
) -> str:
    """A one-page, self-contained HTML brief of the KPI grid with a sparkline and probability bar per KPI.

    Rendered from ``templates/brief.html.j2`` with autoescaping, so stored text (a KPI's name, a region)
    is always text in the brief.

    Args:
        grid: rows of :func:`dashboard.views.kpi_grid` to include (already filtered and sorted).
        forecasts: the ``forecasts`` table (median of each KPI's own model), or None.
        observations: the ``observations`` table (annual history), or None.
        lang: ``"zh"`` or ``"en"``.
        region: the region shown in the title (None / ``"all"``: every district).
        generated: the time stamp printed on the brief.
        calibration: the published ``calibration`` table; each probability then carries how often past
            calls of its size came true (:func:`dashboard.views.reliability_sentence`).

    Returns:
        An HTML document; it loads nothing from the network.
    """
    rows = []
    for row in grid.iter_rows(named=True):
        hist, fc = _series((row["kpi_id"], row["region"]), row["model"], forecasts, observations)
        tgt = (
            (float(row["target_year"]), row["target_value"])
            if row["target_year"] and row["target_value"] is not None
            else None
        )
        status = row["status"] if row["status"] in STATUS_STYLE else "unknown"
        p = row["p_reach"]
        rows.append(
            {
                "name": row["name_zh"] if lang == "zh" else row["name_en"],
                "region": region_name(row["region"], lang),
                "latest": f"{format_value(row['last_value'], row['unit'], lang)} ({row['last_year'] or '—'})",
                "target": f"{target_text(row, lang)} ({row['target_year'] or '—'})",
                "p_text": None if p is None else format_pct(p),
                "p_width": f"{(p or 0) * 100:.0f}",
                "colour": STATUS_STYLE[status][1],
                "status": status_text(status, lang),
                "obligation": t(f"obligation.{row['obligation']}", lang) if row["obligation"] else "—",
                "spark": sparkline(hist, fc, tgt),
                "sentence": kpi_sentence(row, lang),
                "reliability": reliability_sentence(calibration, p, lang, row.get("model"))
                if shows_probability(row)
                else None,
            }
        )
    counts = [
        {
            "icon": STATUS_STYLE[s][0],
            "label": t(f"status.{s}", lang),
            "n": grid.filter(pl.col("status") == s).height,
        }
        for s in ("achieved", "on_track", "at_risk", "off_track")
    ]
    headers = [t(k, lang) for k in ("col.kpi", "col.region", "col.latest", "col.target", "col.p_reach", "col.status",
                                     "col.obligation", "kpi.history", "col.summary")]  # fmt: skip
    return _TEMPLATES.get_template("brief.html.j2").render(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=t("overview.title", lang),
        scope=t("region.all", lang) if not region or region == "all" else region_name(region, lang),
        app_title=t("app.title", lang),
        generated=(generated or datetime.now()).strftime("%Y-%m-%d %H:%M"),
        synthetic=bool(grid["synthetic"].any()) if "synthetic" in grid.columns and grid.height else False,
        synthetic_text=t("banner.synthetic", lang),
        counts=counts,
        headers=headers,
        rows=rows,
    )
