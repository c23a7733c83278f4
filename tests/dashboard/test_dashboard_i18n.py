"""Labels exist in both languages and every label the code asks for is defined; numbers read naturally."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dashboard
from dashboard.contract import ENUMS
from dashboard.i18n import EN, ZH, format_number, format_value, t

SOURCE = Path(dashboard.__file__).parent


def test_both_languages_have_the_same_labels_and_placeholders() -> None:
    assert ZH.keys() == EN.keys()
    for key in ZH:
        assert set(re.findall(r"{(\w+)}", ZH[key])) == set(re.findall(r"{(\w+)}", EN[key])), key


def test_every_literal_label_key_used_in_the_code_exists() -> None:
    used: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_0-9]+)["']""", text))
    assert used, "found no t(...) calls: the scan is broken"
    assert sorted(used - ZH.keys()) == []


@pytest.mark.parametrize(("table", "column", "prefix"), [
    ("attainment", "status", "status."), ("kpis", "obligation", "obligation."), ("scenarios", "domain", "domain."),
])  # fmt: skip
def test_every_enum_value_shown_has_a_label(table: str, column: str, prefix: str) -> None:
    for value in ENUMS[(table, column)]:
        assert t(prefix + value, "zh") and t(prefix + value, "en")


def test_unknown_label_says_how_to_fix() -> None:
    with pytest.raises(KeyError, match="add it to both ZH and EN"):
        t("no.such_label")


@given(st.floats(1e4, 9.99e7))
def test_chinese_numbers_between_ten_thousand_and_a_hundred_million_use_wan(x: float) -> None:
    text = format_number(x, "zh")
    assert text.endswith("万")
    assert float(text[:-1].replace(",", "")) == pytest.approx(x / 1e4, abs=0.051)


@given(st.floats(1e8, 1e12))
def test_chinese_numbers_above_a_hundred_million_use_yi(x: float) -> None:
    assert format_number(x, "zh").endswith("亿")


def test_money_in_yi_yuan() -> None:
    assert format_value(13000, "亿元", "zh") == "1.3万亿元"
    assert format_value(1250.5, "亿元", "zh") == "1,250.5亿元"
    assert format_value(1250.5, "亿元", "en") == "125.05 billion yuan"
    assert format_value(72.55, "%", "en") == "72.5%" or format_value(72.55, "%", "en") == "72.6%"
