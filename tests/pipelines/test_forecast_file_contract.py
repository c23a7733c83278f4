"""The file contracts: forecast-file and attain, on good and bad input (written into tmp_path)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.steps.forecast_files import FileContractError, attain_file, forecast_file
from tests.pipelines.conftest import ATTAIN_HEADER, FORECAST_HEADER, header

GOOD = """series_id,period,value
ywtb,2018,11
ywtb,2019,27.6
ywtb,2021,77
a,2015,40
a,2016,44
a,2017,49
a,2018,52
a,2019,57
a,2020,61
a,2021,66
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_forecast_file_writes_the_contract(tmp_path: Path) -> None:
    src = _write(tmp_path, "in.csv", GOOD)
    out = tmp_path / "out.csv"
    frame = forecast_file(src, out, horizon=3, kind="share")
    assert frame.columns == FORECAST_HEADER.split(",") and header(out) == FORECAST_HEADER
    back = pl.read_csv(out)
    assert back.height == 6 and back["period"].to_list() == [2022, 2023, 2024] * 2
    qs = back.select("q0.025", "q0.1", "q0.5", "q0.9", "q0.975").to_numpy()
    assert (qs[:, :-1] <= qs[:, 1:]).all()
    assert (qs >= 0).all() and (qs <= 100).all()
    assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind


def test_forecast_file_with_iso_dates(tmp_path: Path) -> None:
    rows = "series_id,period,value\n" + "".join(f"m,2023-{k:02d}-01,{10 + k}\n" for k in range(1, 10))
    frame = forecast_file(_write(tmp_path, "in.csv", rows), tmp_path / "o.csv", horizon=2)
    assert frame["period"].to_list() == ["2023-10-01", "2023-11-01"]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("series_id,period\na,2020\n", r"in\.csv, column 'value': missing column"),
        (
            "series_id,period,value\na,2020,1\na,2021,12%\na,2022,3\n",
            r"in\.csv, row 2 \(line 3\), column 'value': '12%' is not a number",
        ),
        ("series_id,period,value\na,2020,1\na,2021,2\n", r"row 1 .*fewer than 3.*Fix: give at least 3"),
        ("series_id,period,value\na,20x0,1\n", r"row 1 .*column 'period'.*integer year"),
        ("series_id,period,value\na,2020,1\na,2020,2\na,2021,3\n", r"period twice"),
    ],
)
def test_bad_input_names_file_row_and_column(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(FileContractError, match=pattern):
        forecast_file(_write(tmp_path, "in.csv", text), tmp_path / "out.csv", horizon=2)
    assert not (tmp_path / "out.csv").exists()


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileContractError, match="unknown; use one of auto, share, count, amount"):
        forecast_file(_write(tmp_path, "in.csv", GOOD), tmp_path / "out.csv", horizon=2, kind="ratio")


def test_attain_file(tmp_path: Path) -> None:
    src = _write(tmp_path, "in.csv", GOOD)
    targets = _write(
        tmp_path,
        "t.csv",
        "series_id,target_period,target_value,direction\n"
        "a,2023,70,>=\na,2019,50,>=\nywtb,2022,500,>=\na,2024,10,<=\n",
    )
    frame = attain_file(src, targets, tmp_path / "att.csv")
    assert frame.columns == ATTAIN_HEADER.split(",") and header(tmp_path / "att.csv") == ATTAIN_HEADER
    past = next(r for r in frame.iter_rows(named=True) if r["target_period"] == 2019)
    assert past["status"] == "achieved" and past["p_reach"] == 1.0 and past["expected_period"] == 2018
    far = next(r for r in frame.iter_rows(named=True) if r["series_id"] == "ywtb")
    assert far["p_reach"] < 0.33 and far["status"] == "off_track"
    low = next(r for r in frame.iter_rows(named=True) if r["target_period"] == 2024)
    assert low["p_reach"] < 0.05
    likely = next(r for r in frame.iter_rows(named=True) if r["target_period"] == 2023)
    assert likely["p_reach"] > 0.5 and likely["anticipated_growth"] > likely["required_growth"]
    assert pl.read_csv(tmp_path / "att.csv").height == 4


def test_attain_file_bad_targets(tmp_path: Path) -> None:
    src = _write(tmp_path, "in.csv", GOOD)
    bad_dir = _write(tmp_path, "t.csv", "series_id,target_period,target_value,direction\na,2023,70,>\n")
    with pytest.raises(FileContractError, match=r"t\.csv, row 1 \(line 2\), column 'direction'"):
        attain_file(src, bad_dir, tmp_path / "att.csv")
    unknown = _write(tmp_path, "u.csv", "series_id,target_period,target_value,direction\nzz,2023,70,>=\n")
    with pytest.raises(FileContractError, match="not in the IN file"):
        attain_file(src, unknown, tmp_path / "att.csv")


def test_a_gap_in_the_file_is_filled_but_never_backtested_as_observed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.steps.forecast_files as ff

    rows = ["series_id,period,value"]
    for sid, scale in (("a", 1.0), ("b", 2.0)):
        rows += [f"{sid},{year},{scale * (10 + year - 2010)}" for year in range(2010, 2022) if year != 2015]
    seen: list[list[list[bool]]] = []
    real = ff.fit_champion

    def spy(*args: object, **kwargs: object) -> object:
        seen.append([o.tolist() for o in kwargs["observed"]])  # type: ignore[attr-defined]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ff, "fit_champion", spy)
    frame = forecast_file(_write(tmp_path, "gap.csv", "\n".join(rows) + "\n"), tmp_path / "o.csv", horizon=2)
    assert frame.height == 4 and frame["q0.5"].is_finite().all()
    flags = [f for group in seen for f in group]
    assert flags and all(f[5] is False and sum(f) == 11 for f in flags)  # 2015 filled, the rest observed
