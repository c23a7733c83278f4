"""The product's own panels: reliability, coverage and MSIS of what ``dtscope run`` publishes.

Run ``python -m evaluation.bench.panels``. For the 2-district demo (``dtscope demo``, the validation
panel on which the recalibration's prior weight was chosen) and the 16-district demo (``dtscope demo
--scale all``, held out: never tuned on), it builds a fresh home in a temporary folder, runs
``dtscope run`` there and reads the published ``calibration`` and ``backtest_metrics`` (horizon 0)
tables. It writes ``evaluation/bench/panels.md``. Goals (issue 16): every reliability bin with
``n ≥ 100`` within ±5 points; every kind's 80 %/95 % coverage within ±3 points of nominal; MSIS finite.
Everything in the written file is measured in this run. ``--seed N`` draws another demo of each panel
(validation can look at several draws: the choices documented in ``models.champion`` used the demo's seed
and seeds 1–6 of the 2-district demo); ``--scale two`` runs the validation panel only (write it elsewhere
with ``--out``: ``panels.md`` holds the default draws of both panels). Without ``--seed`` it then
summarises further held-out draws of the 16-district demo (``--draws``, seeds 101–105 by default; never
used to choose anything): per draw, how many cells miss the goals' bands and how many miss 2 SE.

**What a panel's n can show.** Each figure comes with its binomial standard error under calibration:
``√(p(1 − p)/n)`` for a bin of mean probability ``p`` and for a coverage at nominal ``p``. With ``n = 96``
a calibrated 80 % interval's coverage has a standard error of 4.1 points, so it lands outside ±3 of
nominal about half the time, and a 95 % interval's (2.2 points) about a sixth of the time: on a kind with
96 rows ±3 can flag a gross miscalibration, not certify a good one. Rows are not independent either (the
same series at neighbouring origins, one year's shock shared by every series), so the true uncertainty
is larger than the binomial one. The columns ``within 2 SE`` say whether the gap is within what
sampling alone explains.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

OUT = Path(__file__).with_name("panels.md")
PANELS = (("2-district demo (validation)", "two"), ("16-district demo (held out)", "all"))
OTHER_DRAWS = (101, 102, 103, 104, 105)  # further held-out draws of the 16-district demo, summarised


DTSCOPE = str(Path(sys.executable).with_name("dtscope"))  # the console script next to this Python


def build_demo(scale: str, home: Path, seed: int | None = None) -> None:
    """A demo home of ``scale`` (``dtscope demo``; ``seed``: the demo's own default if ``None``)."""
    seeded = [] if seed is None else ["--seed", str(seed)]
    subprocess.run(
        [DTSCOPE, "demo", "--scale", scale, *seeded, "--home", str(home)], check=True, capture_output=True
    )


def run_panel(scale: str, home: Path, seed: int | None = None) -> float:
    """Build the demo home and run the pipeline in it; the wall seconds of ``dtscope run``."""
    build_demo(scale, home, seed)
    t0 = time.perf_counter()
    subprocess.run([DTSCOPE, "run", "--home", str(home)], check=True, capture_output=True)
    return time.perf_counter() - t0


def tables(home: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    pub = home / "published_tables"
    cal = pl.read_parquet(pub / "calibration.parquet")
    metrics = pl.read_parquet(pub / "backtest_metrics.parquet").filter(pl.col("horizon") == 0)
    return cal, metrics.pivot(on="metric", index="kind", values="value").sort("kind")


def binomial_se(p: float, n: float) -> float:
    """Standard error, in points, of a frequency over ``n`` independent events of probability ``p``.

    >>> round(binomial_se(0.8, 96), 1), round(binomial_se(0.95, 96), 1)
    (4.1, 2.2)
    """
    return 100 * math.sqrt(p * (1 - p) / n) if n > 0 else math.inf


def bin_checks(r: dict[str, float]) -> tuple[float, float, bool | None, bool]:
    """A reliability bin's gap and SE (points), whether it is within ±5 (``None`` below n = 100, where the goal
    does not apply) and whether it is within 2 SE."""
    gap = 100 * (r["observed_freq"] - r["predicted_mean"])
    se = binomial_se(r["predicted_mean"], r["n"])
    return gap, se, (abs(gap) <= 5) if r["n"] >= 100 else None, abs(gap) <= 2 * se


def kind_checks(r: dict[str, float]) -> tuple[float, float, bool, bool]:
    """A kind's coverage SEs at 80 / 95 % (points), whether both are within ±3 and whether within 2 SE."""
    se80, se95 = binomial_se(0.8, r["n"]), binomial_se(0.95, r["n"])
    ok = abs(r["coverage80"] - 80) <= 3 and abs(r["coverage95"] - 95) <= 3
    ok_se = abs(r["coverage80"] - 80) <= 2 * se80 and abs(r["coverage95"] - 95) <= 2 * se95
    return se80, se95, ok, ok_se


def render(label: str, cal: pl.DataFrame, kinds: pl.DataFrame, seconds: float) -> list[str]:
    lines = [f"## {label}", "", f"`dtscope run` {seconds:.0f} s.", ""]
    lines += [
        "| bin | predicted | observed | n | gap (points) | SE | within ±5 | within 2 SE |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in cal.sort("bin_lo").iter_rows(named=True):
        gap, se, ok, ok_se = bin_checks(r)
        shown = "(n < 100)" if ok is None else ("yes" if ok else "**no**")
        lines.append(
            f"| {r['bin_lo']:.1f}–{r['bin_hi']:.1f} | {r['predicted_mean']:.3f} | {r['observed_freq']:.3f} | "
            f"{r['n']} | {gap:+.1f} | {se:.1f} | {shown} | {'yes' if ok_se else 'no'} |"
        )
    lines += [
        "",
        "| kind | n | cov 80 % (SE) | cov 95 % (SE) | within ±3 | within 2 SE | MSIS | CRPS | Brier | MASE |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in kinds.iter_rows(named=True):
        se80, se95, ok, ok_se = kind_checks(r)
        lines.append(
            f"| {r['kind']} | {r['n']:.0f} | {r['coverage80']:.1f} ({se80:.1f}) | {r['coverage95']:.1f} "
            f"({se95:.1f}) | {'yes' if ok else '**no**'} | {'yes' if ok_se else 'no'} | {r['msis']:.2f} | "
            f"{r['crps']:.3f} | {r['brier']:.4f} | {r['mase']:.3f} |"
        )
    return [*lines, ""]


def draw_row(seed: int, cal: pl.DataFrame, kinds: pl.DataFrame) -> str:
    """One line of the other-draws table: how many cells miss the goal's band, and how many miss 2 SE."""
    bins = [bin_checks(r) for r in cal.iter_rows(named=True)]
    checked = [b for b in bins if b[2] is not None]
    kind_rows = list(kinds.iter_rows(named=True))
    ks = [kind_checks(r) for r in kind_rows]
    worst = max(kind_rows, key=lambda r: r["msis"])
    return (
        f"| {seed} | {sum(not b[2] for b in checked)} of {len(checked)} | "
        f"{sum(not k[2] for k in ks)} of {len(ks)} | "
        f"{sum(not b[3] for b in bins) + sum(not k[3] for k in ks)} of {len(bins) + len(ks)} | "
        f"{worst['msis']:.2f} ({worst['kind']}) |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="demo seed (default: the demo's own); another draw of each panel",
    )
    parser.add_argument(
        "--scale",
        choices=("two", "all", "both"),
        default="both",
        help="which panel(s) to run (default: both)",
    )
    parser.add_argument(
        "--draws",
        type=int,
        nargs="*",
        default=list(OTHER_DRAWS),
        help="seeds of further 16-district draws summarised at the end (none: skip them)",
    )
    args = parser.parse_args(argv)
    lines = [
        "# The product's panels: published calibration and backtest metrics",
        "",
        "Written by `python -m evaluation.bench.panels` (see its docstring for the protocol). Reliability: the "
        "published `calibration` table (attainment probabilities of the whole-champion backtest, its distributions "
        "recalibrated by `evaluation.forecasting.interval_recalibration` and the probabilities by "
        "`evaluation.forecasting.recalibration`, each row by the maps fitted on the other half of the series); "
        "coverage, MSIS, CRPS, Brier and MASE: the published `backtest_metrics` at horizon 0 (all horizons; a "
        "level's coverage read on its PIT, `models.metrics.pit_coverage`). Settings are chosen on other draws "
        "(`python -m pipelines.bench.panel_configs`), never on the 16-district demo's own draw.",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for label, scale in PANELS:
            if args.scale not in (scale, "both"):
                continue
            home = Path(tmp) / scale
            seconds = run_panel(scale, home, args.seed)
            cal, kinds = tables(home)
            lines += render(
                label if args.seed is None else f"{label}, demo seed {args.seed}", cal, kinds, seconds
            )
        if args.draws and args.seed is None and args.scale in ("all", "both"):
            lines += [
                "## Other draws of the 16-district demo (held out too)",
                "",
                "The same goals on further draws (`dtscope demo --scale all --seed N`), never used to choose "
                "anything: how many reliability bins of n ≥ 100 lie outside ±5 points, how many kinds outside ±3 "
                "points at 80 or 95 %, how many cells (every bin and kind) lie outside 2 binomial SE, and the "
                "largest MSIS. A miss of the band within 2 SE is what sampling alone produces at these n.",
                "",
                "| demo seed | bins outside ±5 | kinds outside ±3 | cells outside 2 SE | largest MSIS (kind) |",
                "| --- | --- | --- | --- | --- |",
            ]
            for seed in args.draws:
                home = Path(tmp) / f"all-{seed}"
                run_panel("all", home, seed)
                lines.append(draw_row(seed, *tables(home)))
                print(lines[-1], flush=True)
            lines.append("")
    args.out.write_text("\n".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
