"""Write the shipped reference data of the recalibrations from M3 yearly training parts.

Run ``python -m evaluation.bench.reference``. It writes two files:

* ``evaluation/forecasting/reference_attainment.csv``: the prior of the attainment recalibration
  (:mod:`evaluation.forecasting.recalibration`): the champion's attainment probabilities and outcomes
  (targets ``last × (1 + k·g)^h``, ``k ∈ {0.5, 1, 1.5}``, as the published backtest defines them), binned
  into 20 probability bins (mean probability, event frequency, count);
* ``models/champion/reference_pit.csv``: the prior of the champion's optional beta recalibration
  (:func:`models.champion.calibration.recalibrate`): 199 quantiles of the probability integral transforms
  ``F(y)`` of the predictive distribution.

Both are measured with the *uncalibrated* champion (``recalibrate="never"``) at held-out points of
district-sized panels, the regime of a district's KPI panel. Each panel draws 25 series from the 645 M3
yearly **training** parts, keeps a window of 5–9 points ending 3 points before the end of the training
part, fits the champion with the KPI pipeline's settings (``n_origins=6, min_train=4``) and scores the
next 3 points, still inside the training part. The M3 test part is never read.

The seeds differ from the forecast bench's district panels (seed 0), which validate the choice.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from evaluation.bench.forecast import district_windows
from models.base import dense_probs
from models.champion import ChampionConfig, fit_champion
from models.transforms import Scale

log = logging.getLogger("evaluation.bench.reference")

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models" / "champion" / "reference_pit.csv"
OUT_ATTAINMENT = ROOT / "evaluation" / "forecasting" / "reference_attainment.csv"
KS = (0.5, 1.0, 1.5)
BINS = 20
HOLD = 3
CONFIG = ChampionConfig(n_origins=6, min_train=4, recalibrate="never")


def panel_pits(
    train: list[np.ndarray], *, n_panels: int, size: int = 25, seed: int = 1, config: ChampionConfig = CONFIG
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PITs ``F(y)`` and horizons of the held-out points of ``n_panels`` district-sized panels, and the
    attainment probabilities and outcomes there (one per point and ``k``)."""
    probs = dense_probs(0.005)
    scale = Scale("log")
    pits, hs, ps, es = [], [], [], []
    for hist, held in district_windows(train, n_panels=n_panels, size=size, seed=seed, hold=HOLD):
        z = [scale.forward(y) for y in hist]
        champ = fit_champion(z, HOLD, config, scale)
        _, q = champ.forecast(z, HOLD, probs)
        for j in range(size):
            for h in range(HOLD):
                pits.append(float(np.interp(scale.forward(held[j, h]), q[j, h], probs, left=0.0, right=1.0)))
                hs.append(h + 1)
                g = (hist[j][-1] / hist[j][0]) ** (1 / (hist[j].size - 1)) - 1
                for k in KS:
                    target = hist[j][-1] * (1 + k * g) ** (h + 1)
                    ps.append(
                        1.0 - float(np.interp(scale.forward(target), q[j, h], probs, left=0.0, right=1.0))
                    )
                    es.append(float(held[j, h] >= target))
    return np.array(pits), np.array(hs), np.array(ps), np.array(es)


def main(argv: list[str] | None = None) -> int:
    from evaluation.bench.forecast import load_m3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=80)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    _, train, _, _ = load_m3()
    pits, _, p, e = panel_pits(train, n_panels=args.panels, seed=args.seed)
    b = np.clip(np.floor(p * BINS).astype(int), 0, BINS - 1)
    rows = ["p,freq,n"]
    for i in range(BINS):
        sel = b == i
        if sel.any():
            rows.append(f"{p[sel].mean():.6f},{e[sel].mean():.6f},{int(sel.sum())}")
    OUT_ATTAINMENT.write_text("\n".join(rows) + "\n", encoding="utf-8")
    levels = dense_probs(0.005)
    u = np.quantile(pits, levels)
    lines = ["p,u", *(f"{p:.3f},{v:.6f}" for p, v in zip(levels, u, strict=True))]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.warning(
        "wrote %s and %s from %d points (%d panels, seed %d)",
        OUT,
        OUT_ATTAINMENT,
        pits.size,
        args.panels,
        args.seed,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
