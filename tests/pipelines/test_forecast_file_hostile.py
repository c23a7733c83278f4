"""``forecast-file`` and ``attain`` on hostile input: a column named twice, magnitudes a float cannot carry
(rescaled so the answer is right, or refused), horizon and period-year limits, counts never negative, a target
in year 9999, and formula-like text in what they write."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli.app import app
from pipelines.io.catalog import neutralise_formulas, write_csv
from pipelines.steps.forecast_files import FileContractError, attain_file, forecast_file

runner = CliRunner()


def _in(
    tmp_path: Path, scale: float = 1.0, *, ids: tuple[str, ...] = ("a", "b", "c"), start: int = 2010
) -> Path:
    rows = ["series_id,period,value"]
    for k, sid in enumerate(ids):
        rows += [f"{sid},{start + i},{(5 + i + k) * scale!r}" for i in range(10)]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_column_named_twice_refuses_forecast_file_and_attain(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("series_id,period,value,Value\na,2010,1,9\na,2011,2,9\na,2012,3,9\n", encoding="utf-8")
    with pytest.raises(FileContractError, match=r"column 'value'.*named twice"):
        forecast_file(path, tmp_path / "out.csv", horizon=2)
    targets = tmp_path / "t.csv"
    targets.write_text("series_id,target_period,target_value,direction\na,2015,5,>=\n", encoding="utf-8")
    with pytest.raises(FileContractError, match="named twice"):
        attain_file(path, targets, tmp_path / "att.csv")
    good = _in(tmp_path)
    dup_t = tmp_path / "t2.csv"
    dup_t.write_text(
        "series_id,target_period,target_value,direction,direction\na,2025,5,>=,<=\n", encoding="utf-8"
    )
    with pytest.raises(FileContractError, match=r"column 'direction'.*named twice"):
        attain_file(good, dup_t, tmp_path / "att.csv")


@pytest.fixture(scope="module")
def unit_forecast(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    tmp = tmp_path_factory.mktemp("unit")
    return forecast_file(_in(tmp), tmp / "out.csv", horizon=2)


@pytest.mark.parametrize("scale", [1e-9, 1e-300, 1e20, 1e300])
def test_magnitudes_far_from_one_are_rescaled_and_the_answer_is_right(
    tmp_path: Path, unit_forecast: pl.DataFrame, scale: float
) -> None:
    out = forecast_file(_in(tmp_path, scale), tmp_path / "out.csv", horizon=2)
    cols = ["mean", "q0.025", "q0.5", "q0.975"]
    got = out.select(cols).to_numpy() / scale
    np.testing.assert_allclose(
        got, unit_forecast.select(cols).to_numpy(), rtol=1e-3
    )  # the inputs themselves differ in the last digits


def test_a_forecast_that_overflows_is_absent_not_wrong(tmp_path: Path) -> None:
    with pytest.raises(FileContractError, match="overflows a 64-bit float"):
        forecast_file(_in(tmp_path, 1e307), tmp_path / "out.csv", horizon=2)
    assert not (tmp_path / "out.csv").exists()


def test_subnormal_values_are_refused_with_the_row(tmp_path: Path) -> None:
    with pytest.raises(FileContractError, match=r"row 1 .*smallest normal 64-bit float"):
        forecast_file(_in(tmp_path, 1e-320), tmp_path / "out.csv", horizon=2)


def test_the_horizon_limit_is_named_and_refused_at_once(tmp_path: Path) -> None:
    start = time.perf_counter()
    done = runner.invoke(
        app, ["forecast-file", str(_in(tmp_path)), "--horizon", "100000", "--out", str(tmp_path / "o.csv")]
    )
    assert done.exit_code != 0 and "max_horizon" in done.output
    assert time.perf_counter() - start < 10
    assert not (tmp_path / "o.csv").exists()


def test_no_period_after_max_year_is_written_nor_read(tmp_path: Path) -> None:
    late = _in(tmp_path, start=2185)  # last period 2194
    with pytest.raises(FileContractError, match=r"up to 2204.*2200 \(max_year\)"):
        forecast_file(late, tmp_path / "out.csv", horizon=10)
    ok = forecast_file(late, tmp_path / "out.csv", horizon=6)
    assert ok["period"].max() == 2200
    early = _in(tmp_path, start=1850)
    with pytest.raises(FileContractError, match=r"'1850' is outside the period range 1900–2200"):
        forecast_file(early, tmp_path / "out.csv", horizon=2)


def test_counts_are_never_forecast_negative(tmp_path: Path) -> None:
    rows = ["series_id,period,value"] + [
        f"falling,{2010 + i},{v}" for i, v in enumerate([60, 50, 40, 30, 20, 10, 0])
    ]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = forecast_file(path, tmp_path / "out.csv", horizon=5, kind="count")
    numbers = out.select("mean", "q0.025", "q0.1", "q0.5", "q0.9", "q0.975")
    assert numbers.min_horizontal().min() >= 0.0


def test_attain_with_target_year_9999_is_refused_quickly_with_the_limit(tmp_path: Path) -> None:
    targets = tmp_path / "t.csv"
    targets.write_text("series_id,target_period,target_value,direction\na,9999,100,>=\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(
        FileContractError, match=r"row 1 .*9999 is outside the period range 1900–2200 \(min_year/max_year\)"
    ):
        attain_file(_in(tmp_path), targets, tmp_path / "att.csv")
    assert time.perf_counter() - start < 5
    far = tmp_path / "far.csv"
    far.write_text("series_id,target_period,target_value,direction\na,2150,100,>=\n", encoding="utf-8")
    with pytest.raises(FileContractError, match="max_horizon"):
        attain_file(_in(tmp_path), far, tmp_path / "att.csv")


def test_attain_refuses_magnitudes_it_cannot_represent(tmp_path: Path) -> None:
    targets = tmp_path / "t.csv"
    targets.write_text("series_id,target_period,target_value,direction\na,2022,1e301,>=\n", encoding="utf-8")
    with pytest.raises(FileContractError, match="cannot represent"):
        attain_file(_in(tmp_path, 1e300), targets, tmp_path / "att.csv")


# ------------------------------------------------------------------------------------------ exports
HOSTILE = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)")


def test_forecast_file_and_attain_neutralise_formula_text(tmp_path: Path) -> None:
    path = _in(tmp_path, ids=HOSTILE)
    out = tmp_path / "out.csv"
    forecast_file(path, out, horizon=2)
    written = pl.read_csv(out, infer_schema=False)
    assert set(written["series_id"]) == {"'" + h for h in HOSTILE}
    assert written["mean"].cast(pl.Float64).is_not_null().all()  # numbers stay numbers
    targets = tmp_path / "t.csv"
    targets.write_text(
        "series_id,target_period,target_value,direction\n"
        + "".join(f'"{h.replace(chr(34), chr(34) * 2)}",2022,10,>=\n' for h in HOSTILE),
        encoding="utf-8",
    )
    att = tmp_path / "att.csv"
    attain_file(path, targets, att)
    assert set(pl.read_csv(att, infer_schema=False)["series_id"]) == {"'" + h for h in HOSTILE}


def test_write_csv_and_the_cli_csv_format_neutralise_text_but_not_numbers(tmp_path: Path) -> None:
    frame = pl.DataFrame({"source": ["=cmd|' /C calc'!A0", "ok"], "value": [-1.5, 2.0]})
    text = write_csv(frame, tmp_path / "x.csv").read_text(encoding="utf-8")
    assert text.splitlines()[1].startswith("'=cmd") and text.splitlines()[1].endswith(",-1.5")
    assert neutralise_formulas(frame.lazy()).collect()["source"][0].startswith("'=")
    rejects = tmp_path / "bad.csv"
    rejects.write_text("kpi_id,region,period,value\n=1+2,pudong,2021,5\n", encoding="utf-8")
    runner.invoke(app, ["ingest", str(rejects), "--home", str(tmp_path / "home")])
    done = runner.invoke(app, ["rejects", "--format", "csv", "--home", str(tmp_path / "home")])
    assert done.exit_code == 0, done.output
    assert "'=1+2" in done.output and "\n=" not in done.output and ",=" not in done.output
