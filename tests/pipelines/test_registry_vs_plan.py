"""The registry against the Pudong plan's own indicator table, row by row, and the registry's validation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from pipelines.io.kpi_registry import RegistryError, load_registry
from pipelines.io.parsing import parse_value, to_kpi_unit
from pipelines.settings import PROJECT_ROOT, REGISTRY_DIR

PUDONG_PLAN = PROJECT_ROOT / "data" / "seeds" / "000_43087eb5110b2e57.txt"
OBLIGATION = {"预期性": "expected", "约束性": "binding"}


def _plan_table() -> list[tuple[int, str, str, str]]:
    """Read the 15-row table (序号, 重点指标, 指标属性, 2025年) straight from the plan text."""
    lines = [ln.strip() for ln in PUDONG_PLAN.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, ln in enumerate(lines) if ln.endswith("重点发展指标"))
    cells = [ln for ln in lines[start + 1 :] if ln][:64]
    assert cells[:4] == ["序号", "重点指标", "指标属性", "2025年"]
    rows = []
    for k in range(15):
        num, name, attr, target = cells[4 + 4 * k : 8 + 4 * k]
        rows.append((int(num), name, attr, target))
    return rows


def _pudong_targets() -> dict[int, tuple[str, object]]:
    reg = load_registry()
    out = {}
    for kpi_id, ind in reg.indicators.items():
        for t in ind.targets:
            m = re.search(r"重点发展指标表 #(\d+)$", t.source)
            if t.region == "pudong" and m:
                out[int(m.group(1))] = (kpi_id, t)
    return out


def test_registry_has_all_15_pudong_rows_with_exact_names_obligations_and_targets() -> None:
    plan = _plan_table()
    reg_rows = _pudong_targets()
    assert sorted(reg_rows) == list(range(1, 16))
    reg = load_registry()
    for num, name, attr, target_text in plan:
        kpi_id, t = reg_rows[num]
        ind = reg.indicators[kpi_id]
        assert ind.name_zh == name, f"row {num}"
        assert t.obligation == OBLIGATION[attr], f"row {num}"  # type: ignore[attr-defined]
        assert t.target_year == 2025  # type: ignore[attr-defined]
        assert name in t.quote and target_text in t.quote  # type: ignore[attr-defined]
        kind = t.target_kind  # type: ignore[attr-defined]
        if kind == "level":
            assert t.target_label == target_text  # type: ignore[attr-defined]
        elif kind == "range":
            lo, hi = re.match(r"^(\d+)-(\d+)", target_text).groups()  # type: ignore[union-attr]
            assert (t.target_value, t.target_high) == (float(lo), float(hi))  # type: ignore[attr-defined]
        else:
            text = target_text.replace("M", "")  # "1000M" is Mbps
            value = to_kpi_unit(parse_value(text), ind.unit, ind.kind)
            assert t.target_value == value, f"row {num}"  # type: ignore[attr-defined]
            if target_text.startswith(">"):
                assert kind == "more_than"
            elif target_text == "100%":
                assert kind == "full"
            else:
                assert kind == "at_least"


def test_every_target_kind_the_plans_use_is_present() -> None:
    kinds = {t.target_kind for ind in load_registry().indicators.values() for t in ind.targets}
    assert {"at_least", "range", "more_than", "level", "full"} <= kinds
    cumulative = [k for k, ind in load_registry().indicators.items() if ind.cumulative and ind.targets]
    assert "efficient_disposal_scenarios" in cumulative


def test_hongkou_targets_and_plan_baselines() -> None:
    reg = load_registry()
    hk = {
        (k, t.target_value, t.target_year)
        for k, ind in reg.indicators.items()
        for t in ind.targets
        if t.region == "hongkou"
    }
    assert hk == {
        ("online_handling_share", 80, 2023),
        ("outdoor_5g_stations", 1500, 2023),
        ("iot_closed_loop_scenarios", 10, 2023),
        ("health_scenarios", 6, 2023),
        ("experimental_schools", 6, 2023),
        ("one_thing_new", 4, 2021),
        ("one_thing_optimised", 27, 2021),
    }
    baselines = {(k, b.region, b.year, b.value) for k, ind in reg.indicators.items() for b in ind.baselines}
    assert baselines == {
        ("4g_coverage", "pudong", 2020, 99.7),
        ("enterprise_services_full_online", "pudong", 2020, 327),
        ("livelihood_services_citywide", "pudong", 2020, 161),
        ("iot_devices", "hongkou", 2021, 60800),
    }


def test_every_quote_appears_in_its_seed_file() -> None:
    seeds = {p.name: p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "data" / "seeds").glob("*.txt")}
    reg = load_registry()
    checked = 0
    for ind in reg.indicators.values():
        for item in [*ind.targets, *ind.baselines]:
            seed = next((name for name in seeds if item.source.startswith(name)), None)
            if seed is None:
                continue  # city targets cite published_figures.csv
            if "重点发展指标表" in item.source:
                continue  # table rows are checked cell by cell above
            # The Hongkou text carries stray pinyin after some characters: 區(qū) = 区 (see data/seeds/README.md).
            text = re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", "", seeds[seed])
            assert item.quote in text, item.quote
            checked += 1
    assert checked >= 10


def test_kpis_table_one_row_per_indicator_and_region() -> None:
    table = load_registry().kpis_table()
    assert table.select("kpi_id", "region").is_duplicated().sum() == 0
    assert table.filter(table["region"] == "pudong")["target_kind"].drop_nulls().len() == 15


def _broken_registry(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    d = tmp_path / "registry"
    shutil.copytree(REGISTRY_DIR, d)
    data = yaml.safe_load((d / "kpis.yaml").read_text(encoding="utf-8"))
    edit(data)
    (d / "kpis.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return d


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (
            lambda d: d["indicators"]["5g_coverage"].update(kind="ratio"),
            "indicators.5g_coverage.kind",
            "Input should be",
        ),
        (
            lambda d: d["indicators"]["industrial_internet_platforms"]["targets"][0].update(target_high=3),
            "indicators.industrial_internet_platforms",
            "target_high greater than target_value",
        ),
        (
            lambda d: d["indicators"]["online_handling_share"]["targets"][0].update(target_value=120),
            "indicators.online_handling_share",
            "outside the bounds",
        ),
        (
            lambda d: d["indicators"]["gov_cloud_level"]["targets"][0].update(target_label="卓越级"),
            "indicators.gov_cloud_level",
            "is not one of",
        ),
        (
            lambda d: d["indicators"]["open_datasets"]["targets"][0].update(region="atlantis"),
            "indicators.open_datasets.targets.0.region",
            "unknown region",
        ),
        (
            lambda d: d["indicators"]["open_datasets"].update(colour="red"),
            "indicators.open_datasets.colour",
            "Extra inputs",
        ),
    ],
)
def test_broken_registry_names_file_and_key(tmp_path: Path, edit, key: str, message: str) -> None:  # type: ignore[no-untyped-def]
    d = _broken_registry(tmp_path, edit)
    with pytest.raises(RegistryError) as err:
        load_registry(d)
    text = str(err.value)
    assert str(d / "kpis.yaml") in text
    assert key in text
    assert message in text
