"""forecast-file at scale: the same numbers on every executor and chunk size, a Dask worker killed mid-run
changes nothing, and the reader never holds the whole input."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models.champion import ChampionConfig
from pipelines.run.executors import DaskExecutor, InProcess, LocalProcesses
from pipelines.steps import forecast_chunks
from pipelines.steps.forecast_files import forecast_file

QCOLS = ["mean", "q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
# small caps so the pooled rows and the calibration rows are sampled on a test-sized panel; 150 series of
# 12–24 points give ~2,500 backtest rows, over adaptive_min_rows: difficulty and median models are on
CONFIG = ChampionConfig(n_origins=6, min_train=4, max_pool_rows=5000, max_calibration_rows=1500)


def _panel(path: Path, n: int = 150, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    rows = ["series_id,period,value"]
    for i in range(n):
        m = int(rng.integers(12, 25))
        z = np.log(50.0) + np.cumsum(rng.normal(rng.normal(0.04, 0.03), rng.uniform(0.01, 0.1), m))
        rows += [
            f"k{i:04d},{2024 - m + t},{v:.6f}" for t, v in enumerate(np.exp(z)) if not (i % 7 == 0 and t == 5)
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _numbers(frame: pl.DataFrame) -> np.ndarray:
    return frame.select(QCOLS).to_numpy()


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _panel(tmp_path_factory.mktemp("scale") / "in.csv")


@pytest.fixture(scope="module")
def reference(panel: Path, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """In process, one chunk holding the whole panel (the unchunked fit)."""
    out = tmp_path_factory.mktemp("ref") / "out.csv"
    return forecast_file(panel, out, horizon=4, config=CONFIG, chunk=10_000)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", [1, 40, 64])
def test_chunk_sizes_give_the_same_quantiles(
    panel: Path, reference: pl.DataFrame, tmp_path: Path, chunk: int
) -> None:
    frame = forecast_file(panel, tmp_path / "out.csv", horizon=4, config=CONFIG, chunk=chunk)
    assert frame["series_id"].to_list() == reference["series_id"].to_list()
    assert frame["model"].to_list() == reference["model"].to_list()
    np.testing.assert_allclose(_numbers(frame), _numbers(reference), rtol=0, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["processes", "dask"])
def test_executors_give_the_same_quantiles(
    panel: Path, reference: pl.DataFrame, tmp_path: Path, kind: str
) -> None:
    ex = LocalProcesses(2) if kind == "processes" else DaskExecutor(workers=2)
    try:
        frame = forecast_file(panel, tmp_path / "out.csv", horizon=4, config=CONFIG, executor=ex, chunk=40)
    finally:
        ex.close()
    np.testing.assert_allclose(_numbers(frame), _numbers(reference), rtol=0, atol=1e-9)


@pytest.mark.slow
def test_a_dask_worker_killed_mid_run_changes_nothing(
    panel: Path, reference: pl.DataFrame, tmp_path: Path
) -> None:
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        killed: list[int] = []

        def progress(stage: str, done: int, total: int) -> None:
            # after the first backtest chunk, other chunks are queued or running: kill a worker's process
            if stage == "backtest piece" and not killed:
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        ex = DaskExecutor(scheduler=cluster.scheduler_address)
        try:
            frame = forecast_chunks.write_forecasts(
                panel,
                tmp_path / "out.csv",
                horizon=4,
                config=CONFIG,
                executor=ex,
                chunk=20,
                progress=progress,
            )
        finally:
            ex.close()
        assert killed and frame.series == 150
    out = pl.read_csv(tmp_path / "out.csv")
    np.testing.assert_allclose(_numbers(out), _numbers(reference), rtol=0, atol=1e-9)


def test_the_reader_never_holds_the_whole_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _panel(tmp_path / "in.csv", n=30)
    total = sum(1 for _ in src.open()) - 1
    batches: list[int] = []
    chunks: list[int] = []
    real_iter, real_read = forecast_chunks.iter_table, forecast_chunks.read_values

    def spy_iter(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for batch in real_iter(*args, **kwargs):  # type: ignore[arg-type]
            batches.append(batch.height)
            yield batch

    def spy_read(chunk: forecast_chunks.ChunkRef) -> list[np.ndarray]:
        values = real_read(chunk)
        chunks.append(len(values))
        return values

    monkeypatch.setattr(forecast_chunks, "iter_table", spy_iter)
    monkeypatch.setattr(forecast_chunks, "read_values", spy_read)
    cfg = ChampionConfig(members=("drift", "naive", "theta_np"), n_origins=3, min_train=4)
    summary = forecast_chunks.write_forecasts(
        src, tmp_path / "out.csv", horizon=2, config=cfg, executor=InProcess(), chunk=8, batch_rows=50
    )
    assert sum(batches) == total and max(batches) <= 50 and len(batches) > 5
    assert chunks and max(chunks) <= 8  # every task read one chunk of series, never the panel
    assert summary.rows == 60 and summary.chunks == 4
    assert not list(tmp_path.glob(".out.csv*"))  # the work folder and the temporary OUT are gone
