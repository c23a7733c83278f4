"""Downloads: any table as CSV or Excel, and the one-page leadership brief (self-contained HTML)."""

from __future__ import annotations

import html as html_lib
import io
from collections.abc import Sequence
from datetime import datetime

import polars as pl

from dashboard.components import STATUS_STYLE
from dashboard.i18n import format_pct, format_value, region_name, t
from dashboard.views import kpi_sentence, target_text


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) become text so every format can hold them."""
    nested = [c for c, d in frame.schema.items() if d.is_nested()]
    return frame.with_columns(pl.col(c).cast(pl.String, strict=False) for c in nested) if nested else frame


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel opens Chinese text correctly.

    >>> to_csv_bytes(pl.DataFrame({"指标": ["覆盖率"], "value": [1.5]}))[:3] == b"\\xef\\xbb\\xbf"
    True
    """
    return b"\xef\xbb\xbf" + _flat(frame).write_csv().encode("utf-8")


def to_excel_bytes(frame: pl.DataFrame, sheet: str = "data") -> bytes:
    """One-sheet .xlsx of ``frame`` (the sheet name is cut to Excel's 31 characters)."""
    buffer = io.BytesIO()
    _flat(frame).write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()


def sparkline_svg(
    history: Sequence[tuple[float, float]],
    forecast: Sequence[tuple[float, float]] = (),
    target: tuple[float, float] | None = None,
    *,
    width: int = 140,
    height: int = 32,
) -> str:
    """A tiny inline SVG: history (solid), median forecast (dashed), target (a diamond).

    Args:
        history: (year, value) points.
        forecast: (year, median) points.
        target: (target year, target value) or None.
        width, height: size in pixels.

    Returns:
        An ``<svg>`` element as text ("" when there is nothing to draw).

    >>> svg = sparkline_svg([(2020, 1.0), (2021, 2.0)], [(2022, 3.0)], (2022, 4.0))
    >>> svg.startswith("<svg") and svg.count("<polyline") == 2 and "<path" in svg
    True
    """
    points = [*history, *forecast, *([target] if target else [])]
    if not points:
        return ""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = 3

    def sx(x: float) -> float:
        return pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - y0) / ((y1 - y0) or 1) * (height - 2 * pad)

    def line(pts: Sequence[tuple[float, float]], style: str) -> str:
        if not pts:
            return ""
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        return f'<polyline points="{coords}" fill="none" {style}/>'

    parts = [line(history, 'stroke="#000" stroke-width="1.5"')]
    if forecast and history:
        parts.append(
            line([history[-1], *forecast], 'stroke="#0072B2" stroke-width="1.5" stroke-dasharray="3,2"')
        )
    elif forecast:
        parts.append(line(forecast, 'stroke="#0072B2" stroke-width="1.5" stroke-dasharray="3,2"'))
    if target:
        cx, cy = sx(target[0]), sy(target[1])
        parts.append(f'<path d="M{cx:.1f},{cy - 4:.1f} L{cx + 4:.1f},{cy:.1f} L{cx:.1f},{cy + 4:.1f} '
                     f'L{cx - 4:.1f},{cy:.1f} Z" fill="#D55E00"/>')  # fmt: skip
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{"".join(parts)}</svg>'


_BRIEF_CSS = """
@page { size: A4 landscape; margin: 10mm; }
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; font-size: 10.5px; color: #111; }
h1 { font-size: 17px; margin: 0 0 4px; } .meta { color: #555; margin-bottom: 6px; }
.synthetic { border: 2px solid #E69F00; background: #fff4d6; padding: 4px 8px; font-weight: bold; margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ddd; padding: 2px 4px; text-align: left; }
th { background: #f2f2f2; } .chip { color: #fff; border-radius: 8px; padding: 1px 6px; white-space: nowrap; }
.bar { background: #e6e6e6; width: 60px; height: 7px; display: inline-block; vertical-align: middle; }
.bar > span { background: #0072B2; height: 7px; display: block; }
.counts span { margin-right: 12px; }
"""


def leadership_brief_html(
    grid: pl.DataFrame,
    forecasts: pl.DataFrame | None,
    observations: pl.DataFrame | None,
    lang: str,
    *,
    region: str | None = None,
    generated: datetime | None = None,
) -> str:
    """A one-page, self-contained HTML brief of the KPI grid with a sparkline and probability bar per KPI.

    Args:
        grid: rows of :func:`dashboard.views.kpi_grid` to include (already filtered and sorted).
        forecasts: the ``forecasts`` table (median of each KPI's own model), or None.
        observations: the ``observations`` table (annual history), or None.
        lang: ``"zh"`` or ``"en"``.
        region: the region shown in the title (None / ``"all"``: every district).
        generated: the time stamp printed on the brief.

    Returns:
        An HTML document; it loads nothing from the network.
    """
    esc = html_lib.escape
    when = (generated or datetime.now()).strftime("%Y-%m-%d %H:%M")
    scope = t("region.all", lang) if not region or region == "all" else region_name(region, lang)
    rows = []
    for row in grid.iter_rows(named=True):
        key = (row["kpi_id"], row["region"])
        hist: list[tuple[float, float]] = []
        if observations is not None:
            h = observations.filter((pl.col("kpi_id") == key[0]) & (pl.col("region") == key[1])).sort(
                "period"
            )
            hist = [(d.year + (d.month - 1) / 12, v) for d, v in zip(h["period"], h["value"], strict=True)]
        fc: list[tuple[float, float]] = []
        if forecasts is not None:
            f = forecasts.filter((pl.col("kpi_id") == key[0]) & (pl.col("region") == key[1]))
            if row["model"]:
                f = f.filter(pl.col("model") == row["model"])
            elif f.height:
                f = f.filter(pl.col("model") == f["model"][0])
            fc = [
                (float(p), v)
                for p, v in zip(f.sort("period")["period"], f.sort("period")["q0.5"], strict=True)
            ]
        tgt = (
            (float(row["target_year"]), row["target_value"])
            if row["target_year"] and row["target_value"] is not None
            else None
        )
        status = row["status"] if row["status"] in STATUS_STYLE else "unknown"
        icon, colour = STATUS_STYLE[status]
        p = row["p_reach"]
        bar = (
            f'<span class="bar"><span style="width:{(p or 0) * 100:.0f}%"></span></span> {format_pct(p)}'
            if p is not None
            else "—"
        )
        name = row["name_zh"] if lang == "zh" else row["name_en"]
        obligation = t(f"obligation.{row['obligation']}", lang) if row["obligation"] else "—"
        rows.append(
            "<tr>"
            f"<td>{esc(name)}</td><td>{esc(region_name(row['region'], lang))}</td>"
            f"<td>{esc(format_value(row['last_value'], row['unit'], lang))} ({row['last_year'] or '—'})</td>"
            f"<td>{esc(target_text(row, lang))} ({row['target_year'] or '—'})</td>"
            f"<td>{bar}</td>"
            f'<td><span class="chip" style="background:{colour}">{icon} {esc(t(f"status.{status}", lang))}</span></td>'
            f"<td>{esc(obligation)}</td>"
            f"<td>{sparkline_svg(hist, fc, tgt)}</td>"
            f"<td>{esc(kpi_sentence(row, lang))}</td>"
            "</tr>"
        )
    counts = " ".join(
        f"<span>{STATUS_STYLE[s][0]} {esc(t(f'status.{s}', lang))}: {grid.filter(pl.col('status') == s).height}</span>"
        for s in ("achieved", "on_track", "at_risk", "off_track")
    )
    synthetic = bool(grid["synthetic"].any()) if "synthetic" in grid.columns and grid.height else False
    banner = (
        f'<div class="synthetic">⚠ SYNTHETIC DATA · {esc(t("banner.synthetic", lang))}</div>'
        if synthetic
        else ""
    )
    header = "".join(
        f"<th>{esc(t(k, lang))}</th>"
        for k in ("col.kpi", "col.region", "col.latest", "col.target", "col.p_reach", "col.status",
                  "col.obligation", "kpi.history", "col.summary")
    )  # fmt: skip
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{esc(t('overview.title', lang))} · {esc(scope)}</title><style>{_BRIEF_CSS}</style></head><body>"
        f"<h1>{esc(t('overview.title', lang))} · {esc(scope)}</h1>"
        f'<div class="meta">{esc(t("app.title", lang))} · {when}</div>{banner}'
        f'<div class="counts">{counts}</div>'
        f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</body></html>"
    )
