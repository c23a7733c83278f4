"""``forecast-file`` at any scale: the IN file read in batches, the champion fitted and forecast in chunks of
series on an executor, OUT appended chunk by chunk and renamed into place once.

1. **Read** (:func:`index_file`): the CSV is streamed in batches (:func:`pipelines.io.catalog.iter_table`,
   which enforces the input limits); each batch is validated (the errors of
   :mod:`pipelines.steps.forecast_files`, naming file, row and column) and spilled as Parquet to a work
   folder; one streaming sort by series and period then gives a file from which any chunk of series is
   read alone. The driver keeps one batch, one chunk and a few numbers per series.
2. **Fit** each group of series (one model scale) with :func:`models.champion.chunked.fit_chunked`, its
   tasks on the executor; a task reads its chunk from the work folder itself (on a cluster the folder
   must be on storage every worker reads).
3. **Forecast** every chunk (one task per chunk, in panel order) and append its rows to a temporary file
   beside OUT as the results arrive; at the end one rename (:func:`pipelines.io.catalog.atomic_path`).

The numbers do not depend on the chunk size or the executor (see :mod:`models.champion.chunked`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from models.base import dense_probs
from models.champion import ChampionConfig
from models.champion.chunked import Piece, fit_chunked, forecast_piece
from models.champion.plausible import point_forecast
from models.transforms import Scale, choose_scale, fill_gaps
from pipelines.io.catalog import InputFileError, atomic_path, iter_table

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000
DEFAULT_CHUNK = 1000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SeriesIndex:
    """What the driver keeps of an IN file: a few numbers per series, the data stays in ``data``.

    Attributes:
        path: the IN file. data: the work folder's Parquet file of ``idx, step, value, row`` sorted by
            series and period. ids: series ids in order of first appearance (``idx`` is the position).
        start: first step per series. length: points on the series' grid (gaps included).
        vmin, vmax: smallest and largest value per series. dated, step: as :class:`Panel`.
    """

    path: Path
    data: Path
    ids: list[str]
    start: np.ndarray
    length: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    dated: bool
    step: int

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class ChunkRef:
    """A chunk of series ``lo … hi − 1`` (panel order) that a task reads from ``data`` itself."""

    data: Path
    lo: int
    hi: int
    start: np.ndarray
    length: np.ndarray
    step: int


@dataclass(frozen=True)
class PieceRef:
    """The series of one group inside a chunk: panel indices ``members``, group index of the first."""

    chunk: ChunkRef
    members: np.ndarray
    first: int
    scale: Scale


def read_values(chunk: ChunkRef) -> list[np.ndarray]:
    """The chunk's series on their grids (NaN where the file has no row), read from the work folder.

    Only the row groups holding the chunk's series are read (the file is sorted by series).
    """
    rows = (
        pl.scan_parquet(chunk.data)
        .filter(pl.col("idx").is_between(chunk.lo, chunk.hi - 1))
        .select("idx", "step", "value")
        .collect()
    )
    idx = rows["idx"].to_numpy().astype(np.int64) - chunk.lo
    steps = rows["step"].to_numpy()
    vals = rows["value"].to_numpy()
    out = [np.full(int(n), np.nan) for n in chunk.length]
    pos = (steps - chunk.start[idx]) // chunk.step
    bounds = np.searchsorted(idx, np.arange(chunk.hi - chunk.lo + 1))
    for j in range(chunk.hi - chunk.lo):
        a, b = bounds[j], bounds[j + 1]
        out[j][pos[a:b]] = vals[a:b]
    return out


def _piece(ref: PieceRef, values: list[np.ndarray]) -> Piece:
    raw = [values[int(i) - ref.chunk.lo] for i in ref.members]
    return Piece(
        ref.first,
        tuple(fill_gaps(ref.scale.forward(v)) for v in raw),
        tuple(np.isfinite(v) for v in raw),
    )


def load_piece(ref: PieceRef) -> Piece:
    """A task's view of its piece: read, put on the model scale, gaps filled (flags kept)."""
    return _piece(ref, read_values(ref.chunk))


# ---------------------------------------------------------------- reading


def index_file(
    path: Path, work: Path, *, kind: str = "auto", batch_rows: int = BATCH_ROWS, min_points: int = 3
) -> SeriesIndex:
    """Validate the IN file batch by batch and spill it to ``work`` (see the module).

    Raises:
        FileContractError: as :func:`pipelines.steps.forecast_files.read_panel` does, naming file, row
            and column.
    """
    from pipelines.steps.forecast_files import IN_COLUMNS, _err

    if not path.exists():
        raise _err(path, None, None, "file not found", f"check the path {path}")
    ids: dict[str, int] = {}
    dated: bool | None = None
    parts = 0
    try:
        for read in iter_table(path, batch_rows=batch_rows, label=path.name):
            batch = read.rename({c: c.strip().lower() for c in read.columns})
            missing = [c for c in IN_COLUMNS if c not in batch.columns]
            if missing:
                found = [c for c in batch.columns if c != "row"]
                raise _err(
                    path,
                    None,
                    missing[0],
                    f"missing column(s) {missing}; found {found}",
                    f"give the header {', '.join(IN_COLUMNS)}",
                )
            if batch.height == 0:
                continue
            frame, dated = _validate(path, batch, dated)
            new = [s for s in frame["sid"].unique(maintain_order=True).to_list() if s not in ids]
            for s in new:
                ids[s] = len(ids)
            codes = pl.Series("idx", [ids[s] for s in frame["sid"].to_list()], dtype=pl.UInt32)
            frame.select(codes, "step", "value", "row").write_parquet(work / f"part-{parts:05d}.parquet")
            parts += 1
    except InputFileError as exc:
        raise _err(
            path, None, None, str(exc).removeprefix(f"{path.name}: "), "see the limits in the README"
        ) from exc
    if not parts:
        raise _err(path, None, None, "no data rows", "add rows series_id, period, value")
    data = work / "sorted.parquet"
    pl.scan_parquet(work / "part-*.parquet").sort("idx", "step").sink_parquet(data, row_group_size=65_536)
    for part in work.glob("part-*.parquet"):
        part.unlink()
    stats = (
        pl.scan_parquet(data)
        .group_by("idx")
        .agg(
            n=pl.len(),
            n_steps=pl.col("step").n_unique(),
            lo=pl.col("step").min(),
            hi=pl.col("step").max(),
            vmin=pl.col("value").min(),
            vmax=pl.col("value").max(),
        )
        .sort("idx")
        .collect(engine="streaming")
    )
    step = _infer_step(data) if dated else 1
    _check_series(path, data, stats, list(ids), step=step, min_points=min_points)
    lo = stats["lo"].to_numpy()
    return SeriesIndex(
        path=path,
        data=data,
        ids=list(ids),
        start=lo,
        length=(stats["hi"].to_numpy() - lo) // step + 1,
        vmin=stats["vmin"].to_numpy(),
        vmax=stats["vmax"].to_numpy(),
        dated=bool(dated),
        step=step,
    )


def _validate(path: Path, batch: pl.DataFrame, dated: bool | None) -> tuple[pl.DataFrame, bool]:
    """``sid, step, value, row`` of a batch (row = data row, 1 = first), or the first bad row's error."""
    from pipelines.steps.forecast_files import _err, _number, _period

    per = pl.col("period").fill_null("").str.strip_chars()
    date = per.str.to_date("%Y-%m-%d", strict=False)
    is_year = per.str.contains(r"^\d{4}$")
    is_date = per.str.contains(r"^\d{4}-\d{2}-\d{2}$") & date.is_not_null() & (date.dt.day() == 1)
    frame = batch.select(
        row=pl.col("row") - 1,
        sid=pl.col("series_id").fill_null("").str.strip_chars(),
        raw_period=pl.col("period"),
        raw_value=pl.col("value"),
        is_year=is_year,
        ok_period=is_year | is_date,
        step=pl.when(is_year)
        .then(per.cast(pl.Int64, strict=False))
        .otherwise(date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1),
        value=pl.col("value").fill_null("").str.strip_chars().cast(pl.Float64, strict=False),
    )
    if dated is None:
        first = frame.row(0, named=True)
        dated = not first["is_year"] if first["ok_period"] else None
    bad = (
        (pl.col("sid") == "")
        | ~pl.col("ok_period")
        | (pl.col("is_year") == (dated is True) if dated is not None else pl.lit(False))
        | pl.col("value").is_null()
        | ~pl.col("value").is_finite().fill_null(False)
    )
    flagged = frame.filter(bad)
    patched: dict[int, float] = {}
    for rec in flagged.iter_rows(named=True):
        i = int(rec["row"])
        if not rec["sid"]:
            raise _err(path, i, "series_id", "empty series id", "name every series")
        row_dated, _ = _period(path, i, "period", rec["raw_period"])
        if dated is None:
            dated = row_dated
        if row_dated != dated:
            raise _err(
                path, i, "period", "years and dates are mixed", "use one period format for the whole file"
            )
        patched[i] = _number(path, i, "value", rec["raw_value"])  # raises unless Python reads it
    if patched:
        fix = pl.DataFrame(
            {"row": list(patched), "fixed": list(patched.values())},
            schema_overrides={"row": frame["row"].dtype},
        )
        frame = frame.join(fix, on="row", how="left").with_columns(
            pl.coalesce("fixed", "value").alias("value")
        )
    assert dated is not None
    return frame.select("sid", "step", "value", "row"), dated


def _infer_step(data: Path) -> int:
    """The most common gap between consecutive periods of a series, in months (dates only)."""
    gaps = (
        pl.scan_parquet(data)
        .select(gap=pl.col("step").diff(), same=pl.col("idx").diff() == 0)
        .filter(pl.col("same") & (pl.col("gap") > 0))
        .group_by("gap")
        .agg(n=pl.len())
        .collect(engine="streaming")
    )
    if gaps.height == 0:
        return 12
    return int(gaps.sort(["n", "gap"], descending=[True, False])["gap"][0])


def _check_series(
    path: Path, data: Path, stats: pl.DataFrame, ids: list[str], *, step: int, min_points: int
) -> None:
    """The per-series errors of ``read_panel`` (period twice, too few points, off the grid), first series
    first."""
    from pipelines.steps.forecast_files import _err

    dup = stats["n_steps"].to_numpy() < stats["n"].to_numpy()
    few = stats["n"].to_numpy() < min_points
    off = np.zeros(len(ids), bool)
    if step > 1:
        bad = (
            pl.scan_parquet(data)
            .join(stats.lazy().select("idx", "lo"), on="idx")
            .filter((pl.col("step") - pl.col("lo")) % step != 0)
            .select("idx")
            .unique()
            .collect(engine="streaming")
        )
        off[bad["idx"].to_numpy()] = True
    failing = np.flatnonzero(dup | few | off)
    if not failing.size:
        return
    i = int(failing[0])
    rows = pl.scan_parquet(data).filter(pl.col("idx") == i).collect().sort("step", "value", "row")
    sid = ids[i]
    if dup[i]:
        twice = rows.filter(pl.col("step").is_duplicated())
        raise _err(
            path,
            int(twice["row"][0]),
            "period",
            f"series {sid!r} has the period twice",
            "keep one row per series and period",
        )
    if few[i]:
        raise _err(
            path,
            int(rows["row"][0]),
            "value",
            f"series {sid!r} has {rows.height} observation(s), fewer than {min_points}",
            f"give at least {min_points} periods per series or drop the series",
        )
    lo = int(rows["step"][0])
    wrong = rows.filter((pl.col("step") - lo) % step != 0)
    raise _err(
        path,
        int(wrong["row"][0]),
        "period",
        f"period off the series' {step}-month grid",
        "use regular periods",
    )


# ---------------------------------------------------------------- fitting and forecasting


def scales(index: SeriesIndex, kind: str) -> list[Scale]:
    """The model scale of every series (``share``: one logit scale for the file, as ``forecast_panel``)."""
    from pipelines.steps.forecast_files import FileContractError

    if kind == "share":
        upper = 100.0 if float(index.vmax.max()) > 1 else 1.0
        if float(index.vmin.min()) < 0 or float(index.vmax.max()) > upper:
            raise FileContractError(f"kind 'share' needs values within 0–{upper:g}; use --kind auto or count")
        return [Scale("logit", 0.0, upper)] * len(index)
    want = "count" if kind == "auto" else kind
    return [choose_scale(want, 0.0, None, np.array([lo])) for lo in index.vmin]


@dataclass(frozen=True)
class _Shared:
    """What every forecast task shares: the champion of each scale and the output settings."""

    champions: dict[Scale, Any]
    horizon: int
    probs: np.ndarray
    dated: bool
    ids: dict[int, str]


def _forecast_chunk(shared: _Shared, item: tuple[ChunkRef, list[PieceRef]]) -> pl.DataFrame:
    from pipelines.steps.forecast_files import OUT_QUANTILES, Panel, period_label

    chunk, refs = item
    values = read_values(chunk)
    n = chunk.hi - chunk.lo
    raw_q = np.empty((n, shared.horizon, shared.probs.size))
    models = [""] * n
    for ref in refs:
        champ = shared.champions[ref.scale]
        _, q = forecast_piece(champ, _piece(ref, values), shared.horizon, shared.probs)
        local = ref.members - chunk.lo
        raw_q[local] = np.sort(ref.scale.inverse(q), axis=2)
        for j in local:
            models[int(j)] = f"dtscope:{champ.name}"
    panel = Panel(Path(), [], shared.dated, chunk.step)
    last = chunk.start + (chunk.length - 1) * chunk.step
    cols: dict[str, Any] = {
        "series_id": [shared.ids[chunk.lo + j] for j in range(n) for _ in range(shared.horizon)],
        "period": [
            period_label(panel, int(last[j]) + (k + 1) * chunk.step)
            for j in range(n)
            for k in range(shared.horizon)
        ],
        "mean": point_forecast(raw_q, shared.probs).ravel(),  # the median (models.champion.plausible)
    }
    for p in OUT_QUANTILES:
        at = np.searchsorted(shared.probs, p)
        cols[f"q{p:g}"] = raw_q[:, :, at].ravel()
    cols["model"] = [m for m in models for _ in range(shared.horizon)]
    return pl.DataFrame(cols, schema_overrides={"period": pl.String if shared.dated else pl.Int64})


@dataclass(frozen=True)
class Summary:
    """What :func:`write_forecasts` wrote."""

    rows: int
    series: int
    chunks: int
    champions: dict[str, str]
    dated: bool


def write_forecasts(
    in_path: Path,
    out_path: Path,
    *,
    horizon: int,
    kind: str = "auto",
    config: ChampionConfig,
    executor: Any,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Summary:
    """Forecast every series of IN in chunks of ``chunk`` series on ``executor`` and write OUT (see the
    module). ``progress(stage, done, total)`` is called as tasks finish."""
    from pipelines.steps import forecast_files
    from pipelines.steps.forecast_files import OUT_QUANTILES

    if chunk < 1:
        raise ValueError(f"--chunk must be a positive number of series, got {chunk}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.work-", dir=out_path.parent))
    try:
        index = index_file(in_path, work, kind=kind, batch_rows=batch_rows)
        series_scales = scales(index, kind)
        probs = np.union1d(dense_probs(0.005), np.array(OUT_QUANTILES))
        chunks = [
            ChunkRef(
                index.data,
                lo,
                min(lo + chunk, len(index)),
                index.start[lo : lo + chunk],
                index.length[lo : lo + chunk],
                index.step,
            )
            for lo in range(0, len(index), chunk)
        ]
        groups: dict[Scale, list[int]] = {}
        for i, sc in enumerate(series_scales):
            groups.setdefault(sc, []).append(i)
        position = {sc: {i: k for k, i in enumerate(members)} for sc, members in groups.items()}
        pieces: dict[Scale, list[PieceRef]] = {sc: [] for sc in groups}
        per_chunk: list[list[PieceRef]] = []
        for ref in chunks:
            here = []
            for sc in groups:
                members = np.array([i for i in range(ref.lo, ref.hi) if series_scales[i] == sc])
                if members.size:
                    piece = PieceRef(ref, members, position[sc][int(members[0])], sc)
                    pieces[sc].append(piece)
                    here.append(piece)
            per_chunk.append(here)
        champions: dict[Scale, Any] = {}
        for sc, refs in pieces.items():
            lengths = [int(index.length[i]) for i in groups[sc]]
            if len(refs) == 1:
                one = load_piece(refs[0])
                # one chunk: the one-piece fit is fit_champion itself (looked up on the file contract's
                # module, the entry point its tests watch)
                champions[sc] = forecast_files.fit_champion(
                    list(one.histories), horizon, config, sc, observed=list(one.observed or ())
                )
            else:
                champions[sc] = fit_chunked(
                    refs,
                    horizon,
                    config,
                    sc,
                    lengths=lengths,
                    mapper=_mapper(executor, progress),
                    load=load_piece,
                )
        shared = _Shared(champions, horizon, probs, index.dated, {})
        rows = 0
        with atomic_path(out_path) as tmp, tmp.open("wb") as fh:
            items = list(zip(chunks, per_chunk, strict=True))
            for k, frame in enumerate(executor.imap(_forecast_chunk, items, _with_ids(shared, index))):
                frame.write_csv(fh, include_header=k == 0)
                rows += frame.height
                if progress:
                    progress("forecast", k + 1, len(items))
        names = {str(sc.name): champ.name for sc, champ in champions.items()}
        return Summary(rows, len(index), len(chunks), names, index.dated)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _with_ids(shared: _Shared, index: SeriesIndex) -> _Shared:
    # the ids travel once with the shared value (a few bytes per series)
    return _Shared(shared.champions, shared.horizon, shared.probs, shared.dated, dict(enumerate(index.ids)))


def _mapper(
    executor: Any, progress: Progress | None
) -> Callable[[Callable[[Any, Any], Any], Sequence[Any], Any], list[Any]]:
    def run(fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any) -> list[Any]:
        stage = getattr(getattr(fn, "fn", fn), "__name__", "fit").strip("_").replace("_", " ")
        out = []
        for k, result in enumerate(executor.imap(fn, items, shared)):
            out.append(result)
            if progress:
                progress(stage, k + 1, len(items))
        return out

    return run
