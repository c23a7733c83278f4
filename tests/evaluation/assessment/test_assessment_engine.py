"""The scheme engine: totals, explanations, missing data, unit invariance, aggregation and weighting variants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml

from evaluation.assessment.engine import period_values, score_scheme
from evaluation.assessment.scheme import DEFAULT_SCHEME, Scheme, SchemeError, load_scheme, parse_scheme


def _values(tables: Any, scheme: Scheme, period: str = "2022") -> pl.DataFrame:
    vals = period_values(tables.scenario_metrics, scheme, period).select(
        "scenario_id", "indicator_id", "value"
    )
    # A stand-in efficacy indicator: the known improvement in percent (the pipeline computes it).
    eff = pl.DataFrame(
        {
            "scenario_id": list(tables.true_effects),
            "indicator_id": ["causal_effect"] * len(tables.true_effects),
            "value": [-v * 5 for v in tables.true_effects.values()],
        }
    )
    return pl.concat([vals, eff])


def _regions(tables: Any) -> pl.DataFrame:
    return tables.scenarios.select("scenario_id", "region")


def _variant(tmp_path: Path, **changes: Any) -> Scheme:
    data = yaml.safe_load(DEFAULT_SCHEME.read_text(encoding="utf-8"))
    for key, value in changes.items():
        data[key] = value
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (tmp_path / "ahp_default.yaml").write_text(
        (DEFAULT_SCHEME.parent / "ahp_default.yaml").read_text("utf-8"), "utf-8"
    )
    return parse_scheme(data, path)


def test_scores_explanations_and_ranges(tables: Any) -> None:
    scheme = load_scheme()
    vals = _values(tables, scheme)
    before = vals.clone()
    a = score_scheme(vals, _regions(tables), scheme, period="2022", n_draws=300, seed=1)
    assert vals.equals(before)  # the input frame is not mutated
    s = a.scores.filter(pl.col("status") == "scored")
    assert s.height > 0
    for col in ["total", *[f"dim_{d}" for d in scheme.top_dimensions]]:
        assert s[col].min() >= 0 and s[col].max() <= 100  # type: ignore[operator]
    p = s.select(pl.sum_horizontal([f"p_grade_{g.id}" for g in scheme.spec.grades])).to_series()
    np.testing.assert_allclose(p.to_numpy(), 1.0)
    assert (s["rank_lo"] <= s["rank_hi"]).all()
    # WSM: contributions add up to the total.
    contrib = a.explanations.group_by("scenario_id").agg(pl.col("contribution").sum())
    joined = s.join(contrib, on="scenario_id")
    np.testing.assert_allclose(joined["contribution"].to_numpy(), joined["total"].to_numpy(), atol=1e-9)
    # Ranks are within each region.
    for _, g in s.group_by("region"):
        assert sorted(g["rank"].to_list()) == [float(r) for r in range(1, g.height + 1)]
    assert a.weights["weight"].sum() == pytest.approx(1.0)


def test_grades_follow_the_cut_points(tables: Any) -> None:
    scheme = load_scheme()
    s = score_scheme(_values(tables, scheme), _regions(tables), scheme, period="2022", n_draws=200).scores
    for row in s.filter(pl.col("status") == "scored").iter_rows(named=True):
        expected = next(g for g in scheme.spec.grades if row["total"] >= g.min)
        assert row["grade"] == expected.label_zh and row["grade_id"] == expected.id


def test_missing_indicator_is_renormalised_and_flagged(tables: Any) -> None:
    scheme = load_scheme()
    vals = _values(tables, scheme)
    target = "E00"  # has a measured effect, so data_quality is its only gap
    dropped = vals.filter(~((pl.col("scenario_id") == target) & (pl.col("indicator_id") == "data_quality")))
    a = score_scheme(dropped, _regions(tables), scheme, period="2022", n_draws=200)
    row = a.scores.filter(pl.col("scenario_id") == target).row(0, named=True)
    assert row["status"] == "scored"
    assert "data_quality" in row["missing_indicators"].split(",")
    assert row["missing_weight"] == pytest.approx(0.075)
    expl = a.explanations.filter(pl.col("scenario_id") == target)
    assert expl.filter(pl.col("indicator_id") == "data_quality")["missing"].item() is True
    assert expl["effective_weight"].sum() == pytest.approx(1.0)
    assert expl["contribution"].sum() == pytest.approx(row["total"])


def test_too_much_missing_or_required_missing_excludes(tables: Any, tmp_path: Path) -> None:
    scheme = load_scheme()
    vals = _values(tables, scheme)
    heavy = vals.filter(
        ~(
            (pl.col("scenario_id") == "E02")
            & pl.col("indicator_id").is_in(
                [
                    "closed_loop_rate",
                    "on_time_rate",
                    "median_handling_hours",
                    "recurrence_rate",
                    "data_shared",
                ]
            )
        )
    )
    regions = pl.concat([_regions(tables), pl.DataFrame({"scenario_id": ["GHOST"], "region": ["east"]})])
    s = score_scheme(heavy, regions, scheme, period="2022", n_draws=200).scores
    assert s.filter(pl.col("scenario_id") == "E02")["status"].item() == "excluded"
    assert s.filter(pl.col("scenario_id") == "E02")["total"].item() is None
    assert s.filter(pl.col("scenario_id") == "GHOST")["status"].item() == "no_data"
    strict = _variant(tmp_path, missing={"policy": "exclude", "max_missing_weight": 0.3})
    one = vals.filter(~((pl.col("scenario_id") == "E00") & (pl.col("indicator_id") == "data_quality")))
    s2 = score_scheme(one, _regions(tables), strict, period="2022", n_draws=200).scores
    assert s2.filter(pl.col("scenario_id") == "E00")["status"].item() == "excluded"


def test_unit_change_of_an_indicator_changes_nothing(tables: Any) -> None:
    scheme = load_scheme()
    vals = _values(tables, scheme)
    # cost_per_case 元 → 万元 (min-max scored) must not move any total or rank.
    rescaled = vals.with_columns(
        pl.when(pl.col("indicator_id") == "cost_per_case")
        .then(pl.col("value") / 1e4)
        .otherwise("value")
        .alias("value")
    )
    a = score_scheme(vals, _regions(tables), scheme, period="2022", n_draws=200, seed=2).scores.sort(
        "scenario_id"
    )
    b = score_scheme(rescaled, _regions(tables), scheme, period="2022", n_draws=200, seed=2).scores.sort(
        "scenario_id"
    )
    np.testing.assert_allclose(a["total"].to_numpy(), b["total"].to_numpy(), atol=1e-9)
    assert a["rank"].to_list() == b["rank"].to_list()


def test_unknown_indicator_names_file_and_key(tables: Any, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_SCHEME.read_text(encoding="utf-8"))
    data["indicators"]["usage_count"] = data["indicators"].pop("usage_cases")
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    scheme = parse_scheme(data, path)
    vals = period_values(tables.scenario_metrics, load_scheme(), "2022")
    with pytest.raises(SchemeError) as info:
        score_scheme(vals, _regions(tables), scheme, period="2022", n_draws=100)
    assert str(path) in str(info.value) and "indicators.usage_count" in str(info.value)


@pytest.mark.parametrize("method", ["topsis", "vikor"])
def test_other_aggregations_score_in_range(tables: Any, tmp_path: Path, method: str) -> None:
    scheme = _variant(tmp_path, aggregation={"method": method, "vikor_v": 0.5})
    s = score_scheme(_values(tables, scheme), _regions(tables), scheme, period="2022", n_draws=200).scores
    scored = s.filter(pl.col("status") == "scored")
    assert scored["total"].min() >= 0 and scored["total"].max() <= 100  # type: ignore[operator]
    assert scored.filter(pl.col("rank") == 1).height == 2  # one leader per region
    if method == "vikor":
        # the best-Q scenario of each region is always in its compromise set
        assert scored.filter(pl.col("rank") == 1)["vikor_compromise"].to_list() == [True, True]
    else:
        assert scored["vikor_compromise"].null_count() == scored.height


@pytest.mark.parametrize(
    "weighting",
    [
        {"method": "entropy"},
        {"method": "critic", "critic_cost": "ignore"},
        {
            "method": "combined",
            "subjective": "ahp",
            "ahp_file": "ahp_default.yaml",
            "objective": "critic",
            "combine": "multiplicative",
        },
        {
            "method": "combined",
            "subjective": "fixed",
            "objective": "entropy",
            "combine": "linear",
            "alpha": 0.7,
        },
    ],
)
def test_weighting_variants_give_distributions(
    tables: Any, tmp_path: Path, weighting: dict[str, Any]
) -> None:
    scheme = _variant(tmp_path, weighting=weighting)
    a = score_scheme(_values(tables, scheme), _regions(tables), scheme, period="2022", n_draws=100)
    w = a.weights["weight"].to_numpy()
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
    if weighting["method"] != "combined" or weighting.get("alpha") != 1.0:
        assert not np.allclose(w, a.weights["weight_tree"].to_numpy())


def test_sensitivity_and_acceptability_frames(tables: Any) -> None:
    scheme = load_scheme()
    a = score_scheme(_values(tables, scheme), _regions(tables), scheme, period="2022", n_draws=200)
    n_scored = a.scores.filter(pl.col("status") == "scored").height
    assert a.indicator_sensitivity.height == n_scored * len(scheme.indicator_ids)
    assert (a.indicator_sensitivity["total_minus"] >= 0).all()
    sens = a.sensitivity
    assert sens.height == n_scored * len(scheme.top_dimensions) * 2
    assert sens.columns == ["scheme", "dimension", "delta", "scenario_id", "rank", "rank_change"]
    base = a.scores.select("scenario_id", base="rank")
    check = sens.join(base, on="scenario_id")
    np.testing.assert_allclose(check["rank"] - check["base"], check["rank_change"])
    # Each perturbed ranking is a full ranking within each region (average ranks keep the sum).
    sums = (
        sens.join(a.scores.select("scenario_id", "region"), on="scenario_id")
        .group_by(["dimension", "delta", "region"])
        .agg(pl.col("rank").sum(), n=pl.len())
    )
    np.testing.assert_allclose(sums["rank"].to_numpy(), (sums["n"] * (sums["n"] + 1) / 2).to_numpy())
    top = a.acceptability.filter(pl.col("rank") == 1).join(
        a.scores.select("scenario_id", "region"), on="scenario_id"
    )
    for _, g in top.group_by("region"):
        assert g["probability"].sum() == pytest.approx(1.0)
