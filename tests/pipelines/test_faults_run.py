"""Fault injection on `dtscope run`: SIGKILL at every step boundary and inside the publish swap.

Whatever the moment of the kill, the published set is one run's (every table, the manifest and the
data tables agree on one run id and one pinned vintage); the next run marks the killed MLflow runs KILLED
with the reason; an ingest that lands during a run is not published by that run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.faults import FAULT_ENV
from pipelines.io.catalog import file_sha256, read_table
from pipelines.io.kpi_registry import load_registry
from pipelines.io.warehouse import Warehouse
from pipelines.settings import resolve_settings
from pipelines.steps import publish
from pipelines.steps.ingest import validate_table
from pipelines.tracking.tracker import Tracker

pytestmark = pytest.mark.slow

RUN_SCRIPT = textwrap.dedent(
    """
    import sys
    from pipelines.run.pipeline import RunConfig, run_pipeline
    from pipelines.settings import resolve_settings
    summary = run_pipeline(resolve_settings(sys.argv[1]), RunConfig(score_draws=300, n_origins=2))
    print("RUN", summary.run_id, summary.skipped)
    """
)
BOUNDARIES = ("prepare", "score", "forecast", "track", "register")
SWAP_POINTS = ("publish-written", "publish-linked")


def _run(home: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DTSCOPE_HOME", "MLFLOW_TRACKING_URI", FAULT_ENV)}
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT, str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _ingest_extra(home: Path, tmp: Path, *, shift: float = 0.0) -> datetime:
    """Ingest one new observation (a new source for an existing key); return its vintage."""
    settings = resolve_settings(home)
    wh = Warehouse(settings.warehouse_path, lock_path=settings.lock_path)
    row = wh.observations().filter(pl.col("source").str.starts_with("synthetic")).row(0, named=True)
    path = tmp / f"extra{shift:g}.csv"
    pl.DataFrame(
        {
            "kpi_id": [row["kpi_id"]],
            "region": [row["region"]],
            "period": [str(row["period"].year)],
            "value": [str(row["value"] + shift)],
            "source": ["a file ingested during the run"],
        }
    ).write_csv(path)
    result = validate_table(read_table(path), load_registry(settings.registry_dir), file_label=path.name)
    summary = wh.ingest(result, file=path.name, file_sha256=file_sha256(path))
    assert summary.accepted == 1, summary
    return max(wh.vintages())


def _assert_one_run(home: Path) -> str:
    """Every published table comes from the manifest's run; observations are as of its pinned vintage."""
    assert publish.check_published(home) == []
    manifest = publish.read_manifest(home)
    run_id = manifest["run_id"]
    for name, entry in manifest["tables"].items():
        assert entry["run_id"] == run_id, name
        assert entry["pinned_at"] == manifest["pinned_at"], name
        frame = publish.read_published(home, name)
        assert frame is not None and frame.height == entry["rows"], name
        # score tables carry their step's run id in run_id and the pipeline's in pipeline_run_id
        col = "pipeline_run_id" if "pipeline_run_id" in frame.columns else "run_id"
        if col in frame.columns and name != "runs" and frame.height:
            assert frame[col].unique().to_list() == [run_id], (name, col)
    settings = resolve_settings(home)
    pinned = datetime.fromisoformat(manifest["pinned_at"])
    expected = Warehouse(settings.warehouse_path).observations(as_of=pinned)
    published_obs = publish.read_published(home, "observations")
    assert published_obs is not None
    assert published_obs.height == expected.height
    assert published_obs["vintage"].max() <= pinned
    return str(run_id)


@pytest.fixture(scope="module")
def base_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("faults") / "home"
    done = _run(home)
    assert done.returncode == 0, done.stderr[-3000:]
    return home


@pytest.fixture
def home(base_home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(base_home, copy, symlinks=True)
    return copy


@pytest.mark.parametrize("point", BOUNDARIES + SWAP_POINTS)
def test_a_run_killed_before_the_swap_leaves_the_previous_run_published(
    home: Path, tmp_path: Path, point: str
) -> None:
    before = _assert_one_run(home)
    _ingest_extra(home, tmp_path)
    killed = _run(home, f"after:{point}")
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert _assert_one_run(home) == before


def test_a_run_killed_just_after_the_swap_has_published_all_of_its_set(home: Path, tmp_path: Path) -> None:
    before = _assert_one_run(home)
    vintage = _ingest_extra(home, tmp_path)
    killed = _run(home, "after:publish-swapped")
    assert killed.returncode == -9
    after = _assert_one_run(home)
    assert after != before
    assert publish.read_manifest(home)["pinned_at"] == vintage.isoformat()


def test_the_next_run_marks_the_killed_runs_and_publishes_a_whole_set(home: Path, tmp_path: Path) -> None:
    _ingest_extra(home, tmp_path)
    assert _run(home, "after:forecast").returncode == -9
    tracker = Tracker(resolve_settings(home))
    orphans = {r.info.run_id for r in tracker.search_runs("attributes.status = 'RUNNING'")}
    assert orphans, "the kill should leave RUNNING runs behind"
    done = _run(home)
    assert done.returncode == 0, done.stderr[-3000:]
    for run_id in orphans:
        run = tracker.get_run(run_id)
        assert run.info.status == "KILLED"
        assert "ended without finishing" in run.data.tags["dtscope.killed"]
    assert tracker.search_runs("attributes.status = 'RUNNING'") == []
    _assert_one_run(home)


def test_an_ingest_during_a_run_waits_for_the_next_run(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.run import pipeline

    _ingest_extra(home, tmp_path)  # so the run has something new to do
    landed: list[datetime] = []
    real_forecast_step = pipeline._forecast_step

    def forecast_then_ingest(*args: object, **kwargs: object) -> object:
        result = real_forecast_step(*args, **kwargs)  # type: ignore[arg-type]
        landed.append(_ingest_extra(home, tmp_path, shift=0.5))
        return result

    monkeypatch.setattr(pipeline, "_forecast_step", forecast_then_ingest)
    summary = pipeline.run_pipeline(resolve_settings(home), pipeline.RunConfig(score_draws=300, n_origins=2))
    assert not summary.skipped and landed
    _assert_one_run(home)
    manifest = publish.read_manifest(home)
    assert datetime.fromisoformat(manifest["pinned_at"]) < landed[0]
    obs = publish.read_published(home, "observations")
    assert obs is not None and obs.filter(pl.col("vintage") == landed[0]).height == 0
    ingests = publish.read_published(home, "ingests")
    assert ingests is not None and ingests["vintage"].max() < landed[0]


def test_a_replaced_mlflow_store_is_not_taken_for_the_published_run(home: Path) -> None:
    shutil.rmtree(home / "mlruns")
    done = _run(home)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN" in done.stdout and done.stdout.split()[-1] == "False"  # not skipped
    run_id = _assert_one_run(home)
    assert Tracker(resolve_settings(home)).run_exists(run_id)
