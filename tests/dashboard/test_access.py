"""Who sees what, the browser-free checks that are not rows of the authorisation matrix: every page and
callback, called through the service per role and region, is a row of the one table in
``tests/service/test_authorization_matrix.py``. Here: every export and the brief filtered to the principal's
regions, an owner's department, the Dash app's own refusal without a principal, the account bar, the upload
offered only to owners/admins, formula cells neutralised in exports, the reliability sentence equal to the
calibration table's row."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import plotly.utils
import polars as pl
import pytest

from dashboard.app import export_frame
from dashboard.contract import TABLES
from dashboard.exports import leadership_brief_html, to_csv_bytes, to_excel_bytes
from dashboard.scope import PRINCIPAL_ENVIRON_KEY
from dashboard.views import MIN_RELIABILITY_N, kpi_grid, reliability_sentence, shows_probability
from service.principal import Principal, Role


def viewer(name: str, role: Role, regions: tuple[str, ...], department: str | None = None) -> Principal:
    """A signed-in principal as the service's session check makes it (with a session CSRF token)."""
    return Principal(0, name, role, regions, department, via="session", csrf_token="csrf-test-token")


HK_EVALUATOR = viewer("hk-eval", "evaluator", ("hongkou",))
PD_LEADER = viewer("pd-lead", "leader", ("pudong",))
ADMIN = viewer("admin", "admin", ("*",))


@contextmanager
def as_(app: Any, principal: Principal | None) -> Iterator[None]:
    environ = {PRINCIPAL_ENVIRON_KEY: principal} if principal is not None else {}
    with app.server.test_request_context("/", environ_base=environ):
        yield


def dump(component: Any) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def test_every_export_and_the_brief_are_filtered_too(dash_app: Any, published_tables: dict[str, pl.DataFrame]) -> None:
    with as_(dash_app, HK_EVALUATOR):
        frames = {name: export_frame(name, "all") for name in (*TABLES, "kpi_grid", "league")}
        grid_frame = export_frame("kpi_grid", "all")
        assert grid_frame is not None
        brief = leadership_brief_html(grid_frame, None, None, "zh")
    hk_ids = set(published_tables["scenarios"].filter(pl.col("region") == "hongkou")["scenario_id"].to_list())
    for name, frame in frames.items():
        if frame is None:
            continue
        if "region" in frame.columns:
            assert set(frame["region"].to_list()) <= {"hongkou"}, name
        if "scenario_id" in frame.columns:
            assert set(frame["scenario_id"].to_list()) <= hk_ids, name
        assert "pudong" not in to_csv_bytes(frame).decode("utf-8-sig").lower(), name
    assert frames["kpis"] is not None and frames["kpis"].height > 0
    assert frames["scores"] is not None and frames["scores"].height > 0
    assert "浦东" not in brief and "虹口" in brief


def test_an_owner_sees_its_department_s_scenarios_only(
    dash_app: Any, pages: SimpleNamespace, published_tables: dict[str, pl.DataFrame]
) -> None:
    scenarios = published_tables["scenarios"].filter(pl.col("region") == "hongkou")
    department = scenarios.group_by("owner").len().sort("len", descending=True)["owner"][0]
    mine = set(scenarios.filter(pl.col("owner") == department)["scenario_id"].to_list())
    owner = viewer("hk-owner", "owner", ("hongkou",), department=department)
    with as_(dash_app, owner):
        frames = {name: export_frame(name, "all") for name in ("scenarios", "scores", "efficacy", "explanations", "league")}
        other = scenarios.filter(pl.col("owner") != department).row(0, named=True)
        page = dump(pages.scenario.layout(scenario_id=other["scenario_id"]))
    for name, frame in frames.items():
        assert frame is not None and set(frame["scenario_id"].to_list()) <= mine, name
    assert set(frames["scenarios"]["scenario_id"].to_list()) == mine  # type: ignore[index]
    assert other["name_zh"] not in page and other["scenario_id"] in page  # "not found", not its page


def test_under_the_service_a_missing_principal_is_refused_never_widened(
    dash_app: Any, published_dir: Path, pointed_at: Any
) -> None:
    client = dash_app.server.test_client()
    hk = {PRINCIPAL_ENVIRON_KEY: HK_EVALUATOR}
    pointed_at(published_dir, require_principal=True)
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={"output": "x.children"}).status_code == 401
    assert client.get("/").status_code == 200  # the index page carries no data (the service hashes it)
    layout = client.get("/_dash-layout", environ_base=hk)
    assert layout.status_code == 200 and "hk-eval" in layout.get_data(as_text=True)
    pointed_at(published_dir)
    # development mode: a single user without a principal sees the app …
    assert client.get("/_dash-layout").status_code == 200
    # … but a request the service passed with the key and no principal is refused even so
    assert client.get("/_dash-layout", environ_base={PRINCIPAL_ENVIRON_KEY: None}).status_code == 401


def find(node: Any, component_id: str) -> dict[str, Any] | None:
    """The serialised Dash component with ``id`` in a layout's JSON."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    return next((hit for child in children if (hit := find(child, component_id)) is not None), None)


def test_the_account_bar_logs_out_with_the_session_s_csrf_token(dash_app: Any) -> None:
    client = dash_app.server.test_client()
    body = client.get("/_dash-layout", environ_base={PRINCIPAL_ENVIRON_KEY: PD_LEADER}).get_json()
    form = find(body, "logout-form")
    assert form is not None and form["props"]["action"] == "/logout" and form["props"]["method"] == "post"
    token = find(form, "logout-csrf")
    assert token is not None and token["props"]["name"] == "csrf_token" and token["props"]["value"] == "csrf-test-token"
    assert "pd-lead" in json.dumps(find(body, "signed-in"))
    assert find(client.get("/_dash-layout").get_json(), "logout-form") is None  # development mode


@pytest.mark.parametrize(
    ("principal", "offered"),
    [(PD_LEADER, False), (HK_EVALUATOR, False), (viewer("ds", "data_scientist", ("*",)), False),
     (viewer("hk-owner", "owner", ("hongkou",), "区卫生健康委"), True), (ADMIN, True), (None, True)],
)  # fmt: skip
def test_the_upload_is_offered_only_to_owners_and_admins(
    dash_app: Any, pages: SimpleNamespace, principal: Principal | None, offered: bool
) -> None:
    with as_(dash_app, principal):
        text = dump(pages.data.layout())
    assert ('"id": "upload"' in text) is offered
    assert ('"id": "upload-off"' in text) is not offered


def test_exports_neutralise_formula_cells(published_copy: Path, dash_app: Any, pointed_at: Any) -> None:
    path = published_copy / "scenarios.parquet"
    frame = pl.read_parquet(path)
    bad = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)"]
    frame.with_columns(
        pl.Series("name_en", bad + frame["name_en"].to_list()[len(bad):])
    ).write_parquet(path)
    pointed_at(published_copy)
    with as_(dash_app, None):
        out = export_frame("scenarios", "all")
    assert out is not None
    csv = pl.read_csv(to_csv_bytes(out)[3:])
    assert csv["name_en"].to_list()[:4] == [f"'{b}" for b in bad]
    xlsx = pl.read_excel(to_excel_bytes(out, "scenarios"))
    assert xlsx["name_en"].to_list()[:4] == [f"'{b}" for b in bad]
    assert csv["budget"].dtype.is_numeric()  # numbers stay numbers


SENTENCE_EN = re.compile(r"of past (\d+)–(\d+)% calls, (\d+)% came true \(n = (\d+)\)")
SENTENCE_ZH = re.compile(r"过去预测概率在(\d+)–(\d+)%之间的判断中，(\d+)%实现（n = (\d+)）")


def shown_rows(published_tables: dict[str, pl.DataFrame]) -> list[dict[str, Any]]:
    t = published_tables
    grid = kpi_grid(t["kpis"], t["attainment"], t["observations"])
    return [r for r in grid.iter_rows(named=True) if shows_probability(r)]


def calibration_row(calibration: pl.DataFrame, p: float) -> dict[str, Any] | None:
    """The published bin holding ``p`` (``[bin_lo, bin_hi)``, 1.0 in the top bin), None when none was published."""
    hit = calibration.filter((pl.col("bin_lo") <= p) & ((pl.col("bin_hi") > p) | (pl.col("bin_hi") >= 1.0) & (p >= 1.0)))
    assert hit.height <= 1, (p, hit)
    return hit.row(0, named=True) if hit.height else None


def test_the_kpi_page_states_the_calibration_row_of_its_probability(
    dash_app: Any, pages: SimpleNamespace, published_tables: dict[str, pl.DataFrame]
) -> None:
    calibration = published_tables["calibration"]
    rows = shown_rows(published_tables)
    assert rows, "the published world has no KPI whose probability is shown"
    checked = 0
    for row in rows:
        cal = calibration_row(calibration, row["p_reach"])
        for lang, pattern in (("en", SENTENCE_EN), ("zh", SENTENCE_ZH)):
            with as_(dash_app, None):
                text = dump(pages.kpi.layout(kpi_id=row["kpi_id"], region=row["region"], lang=lang))
            found = pattern.search(text)
            if cal is None:
                assert found is None and ("no past" in text or "回测中没有" in text), (row["kpi_id"], lang)
                continue
            if cal["n"] < MIN_RELIABILITY_N:
                assert found is None and ("too few" in text or "尚不足以" in text), (row["kpi_id"], lang)
                continue
            assert found, (row["kpi_id"], lang, text[:300])
            lo, hi, freq, n = map(int, found.groups())
            assert (lo, hi) == (round(cal["bin_lo"] * 100), round(cal["bin_hi"] * 100))
            assert freq == round(cal["observed_freq"] * 100) and n == cal["n"]
            checked += 1
    assert checked, "no KPI probability fell in a bin with enough calls"


def test_the_brief_carries_the_same_sentence_and_says_too_few_below_the_minimum(
    published_tables: dict[str, pl.DataFrame],
) -> None:
    t = published_tables
    rows = shown_rows(t)
    grid = kpi_grid(t["kpis"], t["attainment"], t["observations"])
    calibration = t["calibration"]
    brief = leadership_brief_html(grid, None, None, "en", calibration=calibration)
    for row in rows:
        expected = reliability_sentence(calibration, row["p_reach"], "en", row["model"])
        assert expected and expected in brief
    # fewer calls than the minimum in that bin: the brief says so instead of a figure
    row, cal = next((r, c) for r in rows if (c := calibration_row(calibration, r["p_reach"])) is not None)
    thin = calibration.with_columns(
        pl.when(pl.col("bin_lo") == cal["bin_lo"]).then(MIN_RELIABILITY_N - 1).otherwise(pl.col("n")).alias("n")
    )
    brief = leadership_brief_html(grid.filter((pl.col("kpi_id") == row["kpi_id"]) & (pl.col("region") == row["region"])), None, None, "en", calibration=thin)
    assert f"only {MIN_RELIABILITY_N - 1} past {round(cal['bin_lo'] * 100)}–{round(cal['bin_hi'] * 100)}% calls" in brief
    assert f"{round(cal['observed_freq'] * 100)}% came true" not in brief
