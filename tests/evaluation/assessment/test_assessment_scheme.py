"""Scheme loading: the default scheme, weights summing to 1 at every node, and clear errors for bad files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.assessment.scheme import DEFAULT_SCHEME, ROOT, SchemeError, load_scheme, parse_scheme

AHP_FILE = DEFAULT_SCHEME.parent / "ahp_default.yaml"


def _default() -> dict[str, Any]:
    with DEFAULT_SCHEME.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _write(tmp_path: Path, data: dict[str, Any], name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _sibling_sums(scheme: Any) -> list[float]:
    return [sum(scheme.local_weights[k] for k in kids) for kids in scheme.children.values()]


def test_default_scheme_loads_with_the_plan_dimensions() -> None:
    s = load_scheme()
    assert s.top_dimensions == ("demand", "problem", "effect", "funds", "data")
    assert [g.label_zh for g in s.spec.grades] == ["优秀", "良好", "合格", "不合格"]
    assert [g.min for g in s.spec.grades] == [90, 80, 60, 0]
    assert s.spec.dimensions["effect"].name_zh == "效果导向"
    assert s.spec.indicators["closed_loop_rate"].name_zh == "处置闭环率"
    assert s.spec.indicators["causal_effect"].source == "efficacy"
    np.testing.assert_allclose(_sibling_sums(s), 1.0)
    assert s.subjective_weights().sum() == pytest.approx(1.0)


def test_ahp_weighting_uses_the_pairwise_file(tmp_path: Path) -> None:
    data = _default()
    data["weighting"] = {"method": "ahp", "ahp_file": "ahp_default.yaml"}
    (tmp_path / "ahp_default.yaml").write_text(AHP_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    s = parse_scheme(data, _write(tmp_path, data, "ahp.yaml"))
    assert set(s.ahp_cr) == {ROOT, "demand", "problem", "effect", "funds", "data"}
    assert all(cr <= 0.10 for cr in s.ahp_cr.values())
    assert s.ahp_cr["effect"] == 0.0  # a 2×2 reciprocal matrix is always consistent
    np.testing.assert_allclose(_sibling_sums(s), 1.0)
    # The effect dimension's 2:1 judgement gives 2/3 vs 1/3.
    assert s.local_weights["causal_effect"] == pytest.approx(2 / 3)


@st.composite
def trees(draw: st.DrawFn) -> dict[str, Any]:
    """A random scheme tree of any depth with random (normalised) fixed weights."""
    data = _default()
    n_dims = draw(st.integers(1, 6))
    dims: dict[str, Any] = {}
    for d in range(n_dims):
        parent = draw(st.sampled_from([None, *[f"d{k}" for k in range(d)]]))
        dims[f"d{d}"] = {"name_zh": f"维度{d}", "name_en": f"dim {d}", "parent": parent}
    inds: dict[str, Any] = {}
    for d in range(n_dims):
        for k in range(draw(st.integers(1, 3))):
            inds[f"i{d}_{k}"] = {
                "parent": f"d{d}",
                "name_zh": "指标",
                "name_en": "ind",
                "unit": "%",
                "direction": "benefit",
                "normalization": "minmax",
            }
    nodes = {**dims, **inds}
    by_parent: dict[str | None, list[str]] = {}
    for key, node in nodes.items():
        by_parent.setdefault(node["parent"], []).append(key)
    for kids in by_parent.values():
        raw = [draw(st.floats(0.05, 1.0)) for _ in kids]
        for key, r in zip(kids, raw, strict=True):
            nodes[key]["weight"] = r / sum(raw)
    data["dimensions"], data["indicators"] = dims, inds
    return data


@given(trees())
@settings(max_examples=40, deadline=None)
def test_weights_sum_to_one_at_every_node(data: dict[str, Any]) -> None:
    s = parse_scheme(data, Path("random.yaml"))
    np.testing.assert_allclose(_sibling_sums(s), 1.0, atol=1e-9)
    w = s.subjective_weights()
    assert w.sum() == pytest.approx(1.0)
    for d in s.spec.dimensions:
        below = [s.indicator_ids.index(i) for i in s.leaves_under(d)]
        expected = 1.0
        node = d
        while node != ROOT:
            expected *= s.local_weights[node]
            node = s.parent_of(node)
        assert w[below].sum() == pytest.approx(expected)


def _expect(tmp_path: Path, data: dict[str, Any], *needles: str) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(SchemeError) as info:
        load_scheme(path)
    msg = str(info.value)
    assert str(path) in msg
    for needle in needles:
        assert needle in msg
    return msg


def test_cycle_is_named(tmp_path: Path) -> None:
    data = _default()
    data["dimensions"]["demand"]["parent"] = "data"
    data["dimensions"]["data"]["parent"] = "demand"
    _expect(tmp_path, data, "dimensions.", ".parent", "cycle")


def test_weights_not_summing_to_one_are_named(tmp_path: Path) -> None:
    data = _default()
    data["indicators"]["usage_cases"]["weight"] = 0.5
    _expect(tmp_path, data, "indicators.usage_cases.weight", "sum to 1.1", "'demand'")


def test_cr_too_high_is_named(tmp_path: Path) -> None:
    data = _default()
    data["weighting"] = {"method": "ahp", "ahp_file": "ahp.yaml"}
    ahp = yaml.safe_load(AHP_FILE.read_text(encoding="utf-8"))
    ahp["matrices"]["demand"]["experts"] = [[[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]]
    (tmp_path / "ahp.yaml").write_text(yaml.safe_dump(ahp), encoding="utf-8")
    with pytest.raises(SchemeError) as info:
        load_scheme(_write(tmp_path, data))
    msg = str(info.value)
    assert "ahp.yaml" in msg and "matrices.demand" in msg and "consistency ratio" in msg
    ahp["matrices"]["demand"]["allow_inconsistent"] = True
    (tmp_path / "ahp.yaml").write_text(yaml.safe_dump(ahp), encoding="utf-8")
    assert load_scheme(_write(tmp_path, data)).ahp_cr["demand"] > 0.10


def test_unknown_parent_and_bad_thresholds_are_named(tmp_path: Path) -> None:
    data = _default()
    data["indicators"]["usage_cases"]["parent"] = "demnd"
    _expect(tmp_path, data, "indicators.usage_cases.parent", "unknown dimension 'demnd'")
    data = _default()
    data["indicators"]["recurrence_rate"]["target"] = 30  # cost indicator with target above floor
    _expect(tmp_path, data, "indicators.recurrence_rate", "target < floor")
    data = _default()
    data["grades"][1]["min"] = 95
    _expect(tmp_path, data, "grades", "strictly decreasing")
    data = _default()
    data["benchmark"]["min_grade"] = "gold"
    _expect(tmp_path, data, "benchmark.min_grade", "gold")


def test_typo_in_a_key_is_rejected(tmp_path: Path) -> None:
    data = copy.deepcopy(_default())
    data["indicators"]["usage_cases"]["wieght"] = 0.4
    _expect(tmp_path, data, "indicators.usage_cases.wieght", "Extra inputs")


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(SchemeError, match="file not found"):
        load_scheme(tmp_path / "nope.yaml")
    bad = tmp_path / "broken.yaml"
    bad.write_text("scheme: [unclosed", encoding="utf-8")
    with pytest.raises(SchemeError, match="not valid YAML"):
        load_scheme(bad)


def test_shipped_ahp_scheme_extends_the_default() -> None:
    s = load_scheme(DEFAULT_SCHEME.parent / "default_ahp.yaml")
    base = load_scheme()
    assert s.label == "default_ahp 2026.1" and s.spec.aggregation.method == "topsis"
    assert s.indicator_ids == base.indicator_ids
    assert set(s.ahp_cr) == {ROOT, *base.top_dimensions}
    assert not np.allclose(s.subjective_weights(), base.subjective_weights())
    np.testing.assert_allclose(_sibling_sums(s), 1.0)


def test_extends_cycle_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"at key extends: .*cycle"):
        load_scheme(tmp_path / "a.yaml")
