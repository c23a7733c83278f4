"""Small synthetic scenario tables built in code (labelled synthetic, like the demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
import pytest

from evaluation.tables import ScenarioMetrics, Scenarios, StreetOutcomes, dtypes

SOURCE = "synthetic-test"
METRICS = {
    # indicator: (typical value, spread, lower-is-better)
    "usage_cases": (500.0, 200.0, False),
    "coverage_share": (70.0, 15.0, False),
    "active_users": (800.0, 300.0, False),
    "closed_loop_rate": (90.0, 6.0, False),
    "on_time_rate": (85.0, 8.0, False),
    "median_handling_hours": (24.0, 8.0, True),
    "recurrence_rate": (8.0, 4.0, True),
    "satisfaction": (85.0, 7.0, False),
    "cost_per_case": (60.0, 25.0, True),
    "budget_execution": (80.0, 12.0, False),
    "data_shared": (30.0, 12.0, False),
    "data_quality": (90.0, 5.0, False),
}


@dataclass(frozen=True)
class Tables:
    scenarios: pl.DataFrame
    scenario_metrics: pl.DataFrame
    street_outcomes: pl.DataFrame
    true_effects: dict[str, float]


def _months(first: date, n: int) -> list[date]:
    return [
        date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1) for k in range(n)
    ]


def make_tables(seed: int = 0, n_per_region: int = 8) -> Tables:
    """Two regions; half the scenarios name an outcome with a known effect on their street."""
    rng = np.random.default_rng(seed)
    sc_rows, m_rows, o_rows = [], [], []
    effects: dict[str, float] = {}
    months = _months(date(2020, 1, 1), 48)
    for region in ("east", "west"):
        streets = [f"{region}-street-{k}" for k in range(n_per_region + 4)]
        for i in range(n_per_region):
            sid = f"{region[:1].upper()}{i:02d}"
            quality = rng.normal()
            launch = months[int(rng.integers(10, 26))]
            outcome = "overflow_complaints" if i % 2 == 0 else None
            sc_rows.append(
                {
                    "scenario_id": sid,
                    "name_zh": f"场景{sid}",
                    "name_en": f"Scenario {sid}",
                    "region": region,
                    "street": streets[i],
                    "domain": "governance",
                    "category": "test",
                    "owner": "office",
                    "launch_date": launch,
                    "budget": float(rng.uniform(50, 500)),
                    "outcome": outcome,
                    "source": SOURCE,
                }
            )
            for month in months[months.index(launch) :]:
                for ind, (mu, sd, lower_better) in METRICS.items():
                    v = mu + (-1 if lower_better else 1) * quality * sd * 0.8 + rng.normal(0, sd * 0.2)
                    if ind.endswith(("rate", "share", "satisfaction", "quality", "execution")):
                        v = min(max(v, 0.0), 100.0)
                    m_rows.append(
                        {
                            "scenario_id": sid,
                            "period": month,
                            "indicator_id": ind,
                            "value": float(max(v, 0.0)),
                            "source": SOURCE,
                        }
                    )
            if outcome:
                effects[sid] = float(-rng.uniform(2, 8))
        for k, street in enumerate(streets):
            level = 20 + 3 * k % 7
            noise = rng.normal(0, 1.0, len(months))
            treated = [r for r in sc_rows if r["street"] == street and r["outcome"]]
            y = level + 2 * np.cos(2 * np.pi * np.arange(len(months)) / 12) + noise
            if treated:
                post = np.array([m >= treated[0]["launch_date"] for m in months])
                y = y + effects[treated[0]["scenario_id"]] * post
            o_rows += [
                {
                    "region": region,
                    "street": street,
                    "outcome": "overflow_complaints",
                    "period": m,
                    "value": float(v),
                    "source": SOURCE,
                }
                for m, v in zip(months, y, strict=True)
            ]
    scenarios = pl.DataFrame(sc_rows, schema=dtypes(Scenarios))
    metrics = pl.DataFrame(m_rows, schema=dtypes(ScenarioMetrics))
    outcomes = pl.DataFrame(o_rows, schema=dtypes(StreetOutcomes))
    return Tables(scenarios, metrics, outcomes, effects)


@pytest.fixture(scope="module")
def tables() -> Tables:
    return make_tables()
