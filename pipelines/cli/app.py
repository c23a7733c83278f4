"""The ``dtscope`` command line. Configuration enters here once, as :class:`Settings`, and flows down.

Every command takes ``--home DIR`` (or ``$DTSCOPE_HOME``): the folder holding ``warehouse.duckdb``, the
published tables and, for a non-default home, ``mlruns/``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer
import typer.core
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.settings import HOME_ENV, Settings, resolve_settings

if TYPE_CHECKING:  # the heavy rooms (DuckDB, the table contracts) load inside the commands that use them
    from pipelines.io.warehouse import Warehouse


class _Commands(typer.core.TyperGroup):
    """Turns the failures every command can meet (a damaged warehouse) into one clear message, no traceback."""

    def invoke(self, ctx: typer.core._click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # only a command that loaded the warehouse module can raise its errors; a command that did not (an
            # ingest refusing a bomb) must not pay for loading it here
            warehouse = sys.modules.get("pipelines.io.warehouse")
            if warehouse is not None and isinstance(exc, warehouse.WarehouseDamaged | warehouse.WarehouseBusy):
                console.print(f"[bold red]error:[/bold red] {exc}")
                raise typer.Exit(4 if isinstance(exc, warehouse.WarehouseDamaged) else 3) from None
            raise


app = typer.Typer(
    cls=_Commands,
    name="dtscope",
    help="Scenario evaluation and KPI forecasting for district digital-transformation offices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)
log = logging.getLogger("dtscope")

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar=HOME_ENV,
        help="Folder holding warehouse.duckdb, published tables and mlruns/ (default: the project's data/).",
        show_default=False,
    ),
]


class Fmt(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Scale(StrEnum):
    two = "two"
    all = "all"


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    import os

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # our own progress display only
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )


def _settings(home: Path | None) -> Settings:
    return resolve_settings(home)


def _warehouse(settings: Settings) -> Warehouse:
    from pipelines.io.warehouse import Warehouse

    return Warehouse(
        settings.warehouse_path,
        lock_path=settings.lock_path,
        lock_timeout=settings.lock_timeout,
        on_wait=lambda msg: console.print(f"[yellow]{msg}[/yellow]"),
    )


def _emit(frame: pl.DataFrame, fmt: Fmt, title: str) -> None:
    if fmt is Fmt.csv:  # stored text (sources, notes, file names) may start like a spreadsheet formula
        from pipelines.io.catalog import neutralise_formulas

        sys.stdout.write(neutralise_formulas(frame).write_csv())
    elif fmt is Fmt.json:
        sys.stdout.write(frame.write_json() + "\n")
    else:
        table = Table(title=title, show_lines=False)
        for c in frame.columns:
            table.add_column(c, overflow="fold")
        for row in frame.iter_rows():
            table.add_row(*["" if v is None else str(v) for v in row])
        out.print(table)


def _progress() -> Progress:
    """The one progress display of long commands (on stderr, cleared when done)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/bold red] {message}")
    return typer.Exit(code)


# ---------------------------------------------------------------------------------------------- kpis
@app.command()
def kpis(
    region: Annotated[
        str | None, typer.Option(help="Only this region (id or name, e.g. pudong, 虹口).")
    ] = None,
    obligation: Annotated[
        str | None, typer.Option(help="Only 'expected' (预期性) or 'binding' (约束性) targets.")
    ] = None,
    fmt: Annotated[Fmt, typer.Option("--format", help="table, csv or json.")] = Fmt.table,
    home: HomeOpt = None,
) -> None:
    """Print the KPI registry: one row per indicator and region with its target."""
    from pipelines.io.kpi_registry import RegistryError, load_registry

    settings = _settings(home)
    try:
        registry = load_registry(settings.registry_dir)
    except RegistryError as exc:
        raise _fail(str(exc)) from exc
    frame = registry.kpis_table()
    if region:
        rid = registry.region_id(region)
        if rid is None:
            raise _fail(f"unknown region {region!r}; known: {', '.join(registry.regions)}")
        frame = frame.filter(pl.col("region") == rid)
    if obligation:
        key = {"预期性": "expected", "约束性": "binding"}.get(obligation, obligation)
        if key not in ("expected", "binding"):
            raise _fail("--obligation takes expected (预期性) or binding (约束性)")
        frame = frame.filter(pl.col("obligation") == key)
    if fmt is Fmt.table:
        frame = frame.select(
            "kpi_id",
            "region",
            "name_zh",
            "unit",
            "kind",
            "target_kind",
            "target_value",
            "target_high",
            "target_label",
            "target_year",
            "obligation",
        )
    _emit(frame, fmt, "KPI registry")


# ---------------------------------------------------------------------------------------------- ingest
@app.command()
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(help="CSV, Excel (.xlsx) or Parquet files; long, wide or published layout."),
    ],
    sheet: Annotated[str | None, typer.Option(help="Excel sheet name (default: the first).")] = None,
    show_rejects: Annotated[int, typer.Option(help="How many rejected rows to list per file.")] = 10,
    home: HomeOpt = None,
) -> None:
    """Validate files against the registry and append new vintages to the warehouse.

    Every input row ends up accepted (a new vintage), unchanged (already held), or rejected (kept in the
    ``rejects`` table with file, row, column and reason). Exit code 1 when no row of any file was valid,
    2 when a file could not be read at all.
    """
    from pipelines.io.limits import InputFileError, check_input

    unreadable = 0
    readable = []
    for path in files:  # a missing file or one over a limit (a bomb) is refused before polars, DuckDB or pandera load
        try:
            check_input(path, str(path))
            readable.append(path)
        except InputFileError as exc:
            console.print(f"[bold red]error:[/bold red] {exc}")
            unreadable += 1
    if not readable:
        raise typer.Exit(2)

    from pipelines.io.catalog import file_sha256, iter_table
    from pipelines.io.kpi_registry import RegistryError, load_registry
    from pipelines.io.warehouse import WarehouseBusy
    from pipelines.steps.ingest import validate_parts

    settings = _settings(home)
    try:
        registry = load_registry(settings.registry_dir)
    except RegistryError as exc:
        raise _fail(str(exc)) from exc
    warehouse = _warehouse(settings)
    summaries = []
    with _progress() as progress:
        task = progress.add_task("ingesting", total=len(readable))
        for path in readable:
            progress.update(task, description=f"ingesting {path.name}")
            try:
                # streamed: batches are validated and staged in the warehouse inside the one transaction, so
                # memory is bounded by a batch, not the file; a file over a limit is refused whole
                summary = warehouse.ingest_stream(
                    validate_parts(iter_table(path, sheet=sheet), registry, file_label=path.name),
                    file=str(path),
                    file_sha256=file_sha256(path),
                    provenance="uploaded",
                )
            except InputFileError as exc:
                console.print(f"[bold red]error:[/bold red] {exc}")
                unreadable += 1
                progress.advance(task)
                continue
            except WarehouseBusy as exc:
                raise _fail(str(exc), code=3) from exc
            summaries.append((summary, summary))
            progress.advance(task)
    table = Table(title=f"ingest into {settings.warehouse_path}")
    for c in ("file", "layout", "in", "accepted", "unchanged", "rejected", "reject reasons"):
        table.add_column(c)
    for s, _ in summaries:
        reasons = ", ".join(f"{k} {v}" for k, v in s.rejects_by_reason.items())
        table.add_row(
            Path(s.file).name,
            s.layout,
            str(s.rows_in),
            str(s.accepted),
            str(s.unchanged),
            str(s.rejected),
            reasons,
        )
    out.print(table)
    for s, result in summaries:
        if s.rejected and show_rejects > 0:
            out.print(
                f"[bold]{Path(s.file).name}[/bold]: first {min(show_rejects, s.rejected)} of {s.rejected} rejected"
            )
            for r in result.rejects.head(show_rejects).iter_rows(named=True):
                out.print(f"  row {r['row']}, column {r['column']}: {r['reason']}")
    if unreadable:
        raise typer.Exit(2)
    if summaries and all(s.accepted + s.unchanged == 0 for s, _ in summaries):
        console.print("[bold red]nothing was accepted[/bold red]: every row was rejected (see above)")
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------- demo
@app.command()
def demo(
    scale: Annotated[
        Scale, typer.Option(help="'two' = Pudong and Hongkou; 'all' = all 16 districts.")
    ] = Scale.two,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 20211013,
    ingest_data: Annotated[
        bool, typer.Option("--ingest/--no-ingest", help="Load it into the warehouse.")
    ] = True,
    home: HomeOpt = None,
) -> None:
    """Generate the SYNTHETIC demo data set (source = "synthetic-demo") and load it into the warehouse.

    Also loads the registry as the ``kpis`` table and the real published figures and plan baselines
    (data/published/), so the warehouse holds both, each labelled by its source.
    """
    from pipelines.demo import generator as demo_mod
    from pipelines.io.kpi_registry import load_registry
    from pipelines.run.pipeline import load_demo

    settings = _settings(home)
    registry = load_registry(settings.registry_dir)
    if not ingest_data:
        with console.status(f"generating synthetic demo data (scale {scale.value}, seed {seed})"):
            data = demo_mod.generate_demo(registry, seed=seed, scale=scale.value)
            demo_mod.write_demo(data, settings.home / "demo")
        console.print(
            f"SYNTHETIC demo data written to {settings.home / 'demo'} ({data.scenarios.height} scenarios)"
        )
        return
    with console.status(f"generating and loading SYNTHETIC demo data (scale {scale.value}, seed {seed})"):
        rows = load_demo(settings, registry, _warehouse(settings), scale=scale.value, seed=seed)
    _demo_table(rows, settings)


def _demo_table(rows: list[tuple[str, int, int, int, int]], settings: Settings) -> None:
    table = Table(title=f"loaded into {settings.warehouse_path} (observations.csv is SYNTHETIC demo data)")
    for c in ("file", "in", "accepted", "unchanged", "rejected"):
        table.add_column(c)
    for row in rows:
        table.add_row(*[str(v) for v in row])
    out.print(table)


# ---------------------------------------------------------------------------------------------- score
@app.command()
def score(
    scheme: Annotated[
        Path | None,
        typer.Option(help="Assessment scheme YAML (default: data/registry/assessment/default.yaml)."),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Period to score, YYYY or YYYY-MM (default: latest full year).")
    ] = None,
    draws: Annotated[int, typer.Option(help="Monte-Carlo draws for rank and grade uncertainty.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; same data and seed give the same scores.")] = 0,
    round_id: Annotated[
        int | None,
        typer.Option("--round", help="Print an assessment round's scores as JSON (as GET /api/v1/rounds/ID/scores)."),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Score every application scenario: dimension scores, grade, rank with its 5–95% interval, efficacy.

    Publishes the scores, efficacy, explanations and sensitivity tables (each row with the MLflow run id),
    and writes the count of 标杆 scenarios per region as observations of efficient_disposal_scenarios.
    With ``--round ID`` it only prints that round's scores from the service's store (frozen inputs plus
    the submitted ratings; an approved round's stored scores, checked against a recomputation).
    """
    from pipelines.cli import display

    if round_id is not None:
        import json

        from service.rounds.cli import RoundNotReproducible, round_scores
        from service.rounds.core import RoundError

        try:
            doc = round_scores(home, round_id)
        except (RoundError, RoundNotReproducible) as exc:
            raise _fail(str(exc)) from exc
        typer.echo(json.dumps(doc, ensure_ascii=False, allow_nan=False))
        return
    from evaluation.assessment.scheme import SchemeError
    from pipelines.io.kpi_registry import load_registry
    from pipelines.run.wiring import NoDataError, score_step
    from pipelines.steps import publish
    from pipelines.steps.score import MetricsError
    from pipelines.tracking.tracker import Tracker

    settings = _settings(home)
    registry = load_registry(settings.registry_dir)
    tracker = Tracker(settings)
    with console.status("scoring scenarios"):
        try:
            result = score_step(
                _warehouse(settings),
                registry,
                tracker,
                scheme_path=scheme,
                period=period,
                n_draws=draws,
                seed=seed,
            )
        except (SchemeError, MetricsError, NoDataError) as exc:
            raise _fail(str(exc)) from exc
        publish.publish(
            settings.home, result.tables, run_id=result.run_id, info={"scheme": result.scheme_label}
        )
    scores = result.tables["scores"]
    out.print(
        f"scored {scores.height} scenarios ({result.scheme_label}, period {result.period}); "
        f"MLflow run {result.run_id}; benchmark observations written: {result.benchmark_ingest.accepted}"
    )
    top = display.top_scenarios(scores, _warehouse(settings).table("scenarios"))
    _emit(top, Fmt.table, "top 5 scenarios per region (ranks within the region)")


# ---------------------------------------------------------------------------------------------- file contracts
class Kind(StrEnum):
    AUTO = "auto"
    SHARE = "share"
    COUNT = "count"  # upper-case names: a member called `count` would shadow str.count
    AMOUNT = "amount"


class ExecutorOpt(StrEnum):
    inprocess = "inprocess"
    processes = "processes"
    dask = "dask"


# The executor options forecast-file and run share.
ExecutorArg = Annotated[ExecutorOpt, typer.Option(help="Where the per-series work runs: inprocess, processes or dask.")]
WorkersArg = Annotated[int, typer.Option(help="Workers for --executor processes or a local Dask cluster.")]
SchedulerArg = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (tcp://host:8786); its workers need dtscope and must read the data path."),
]


@app.command("forecast-file")
def forecast_file_cmd(
    in_path: Annotated[
        Path, typer.Argument(help="Long CSV: series_id, period, value (period = year or ISO date).")
    ],
    horizon: Annotated[int, typer.Option(help="Periods to forecast.")],
    out: Annotated[Path, typer.Option(help="Output CSV: series_id, period, mean, q0.025 … q0.975, model.")],
    kind: Annotated[
        Kind, typer.Option(help="auto, share (bounded 0–100 or 0–1), count or amount.")
    ] = Kind.AUTO,
    executor: ExecutorArg = ExecutorOpt.inprocess,
    workers: WorkersArg = 2,
    scheduler: SchedulerArg = None,
    chunk: Annotated[int, typer.Option(min=1, help="Series per chunk (sets peak memory).")] = 1000,
    task_stream: Annotated[
        Path | None, typer.Option(help="With --executor dask: save the Dask task stream (CSV) here.")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Forecast any table of series with the calibrated champion (the contract outside tools rely on)."""
    from pipelines.run.executors import make_executor
    from pipelines.steps.forecast_files import FileContractError, write_forecasts_checked

    _settings(home)
    ex = make_executor(executor.value, workers=workers, scheduler=scheduler, task_stream=task_stream)
    try:
        with _progress() as bar:
            task = bar.add_task("reading", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            summary = write_forecasts_checked(
                in_path, out, horizon=horizon, kind=kind.value, executor=ex, chunk=chunk, progress=progress
            )
    except FileContractError as exc:
        raise _fail(str(exc)) from exc
    finally:
        ex.close()
    console.print(
        f"wrote {summary.rows} rows for {summary.series} series to {out} ({summary.chunks} chunk(s))"
    )


@app.command()
def attain(
    in_path: Annotated[Path, typer.Argument(help="Long CSV: series_id, period, value.")],
    targets: Annotated[
        Path, typer.Option(help="CSV: series_id, target_period, target_value, direction (>= or <=).")
    ],
    out: Annotated[
        Path, typer.Option(help="Output CSV: series_id, target_period, p_reach, status, … expected_period.")
    ],
    home: HomeOpt = None,
) -> None:
    """Probability that each series reaches its target, with the growth view and the expected period."""
    from pipelines.steps.forecast_files import FileContractError, attain_file

    _settings(home)
    try:
        frame = attain_file(in_path, targets, out)
    except FileContractError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"wrote {frame.height} targets to {out}")


# ---------------------------------------------------------------------------------------------- reads
@app.command()
def observations(
    kpi: Annotated[str | None, typer.Option(help="Only this kpi_id.")] = None,
    region: Annotated[str | None, typer.Option(help="Only this region id.")] = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="Read the data as it stood at this time (a vintage).")
    ] = None,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    home: HomeOpt = None,
) -> None:
    """Print observations: the latest vintage of each, or as they stood at ``--as-of``."""
    frame = _warehouse(_settings(home)).observations(as_of=as_of, kpi_id=kpi, region=region)
    _emit(frame, fmt, "observations")


@app.command()
def rejects(
    file: Annotated[
        str | None, typer.Option(help="Only rejects of files whose path contains this text.")
    ] = None,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
    home: HomeOpt = None,
) -> None:
    """Print rejected input rows with their file, row, column and reason."""
    frame = _warehouse(_settings(home)).table("rejects")
    if file:
        frame = frame.filter(pl.col("file").str.contains(file, literal=True))
    if fmt is Fmt.table:
        frame = frame.select("file", "row", "column", "reason_code", "reason")
    _emit(frame, fmt, "rejects")


@app.command()
def status(home: HomeOpt = None) -> None:
    """Summarise the warehouse: ingests, vintages, observations by source, rejects by reason."""
    from pipelines.cli import display

    settings = _settings(home)
    wh = _warehouse(settings)
    obs = wh.observations()
    out.print(
        f"warehouse: {settings.warehouse_path} ({'present' if settings.warehouse_path.exists() else 'absent'})"
    )
    out.print(f"vintages: {len(wh.vintages())}; latest observations: {obs.height}")
    if obs.height:
        _emit(display.observations_by_data_set(obs), Fmt.table, "observations by data set")
    rej = wh.table("rejects")
    if rej.height:
        _emit(display.rejects_by_reason(rej), Fmt.table, "rejects by reason")


# ---------------------------------------------------------------------------------------------- run
@app.command()
def run(
    executor: ExecutorArg = ExecutorOpt.inprocess,
    workers: WorkersArg = 2,
    scheduler: SchedulerArg = None,
    config: Annotated[
        Path | None, typer.Option(help="Run configuration JSON (a challenger); default: the production version's.")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Run even if the published tables come from an identical run.")
    ] = False,
    home: HomeOpt = None,
) -> None:
    """The whole pipeline under MLflow: (demo data if empty) → score → forecast → attainment → publish.

    With --config the run is a challenger: tracked and registered, compared with the production version, nothing
    published. A second run on the same data vintage and configuration publishes nothing new.
    """
    from pipelines.cli import display
    from pipelines.run.pipeline import RunConfig, run_pipeline

    settings = _settings(home)
    cfg = None
    if config is not None:
        try:
            cfg = RunConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
            cfg.champion_config()
        except (OSError, ValueError, TypeError) as exc:
            raise _fail(f"{config}: not a valid run configuration: {exc}") from exc
    with _progress() as bar:
        task = bar.add_task("starting", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        summary = run_pipeline(
            settings,
            cfg,
            executor=executor.value,
            workers=workers,
            scheduler=scheduler,
            force=force,
            challenger=config is not None,
            progress=progress,
            on_demo=lambda rows: _demo_table(rows, settings),
        )
    if summary.skipped:
        out.print(
            f"nothing to do: the published tables already come from run {summary.run_id} "
            f"(same data vintage {summary.vintage} and configuration; use --force to run anyway)"
        )
        return
    out.print(
        f"run {summary.run_id} ({summary.role}, model version {summary.model_version}); data vintage {summary.vintage}"
    )
    if summary.attainment is not None and summary.attainment.height:
        att = display.attainment_summary(summary.attainment)
        _emit(
            att,
            Fmt.table,
            "targets: probability of reaching them (SYNTHETIC demo data where data_set says so)",
        )
    if summary.failures:
        out.print(
            f"[yellow]{len(summary.failures)} series not forecast[/yellow] (see the failed child runs):"
        )
        for f in summary.failures:
            out.print(f"  {f['kpi_id']} × {f['region']} ({f['stage']}): {f['error'].splitlines()[0]}")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in summary.timings.items())
    out.print(f"published {len(summary.published)} tables; timings: {timings}")


@app.command()
def reproduce(
    run_id: Annotated[str, typer.Argument(help="The MLflow run id of a past `dtscope run`.")],
    home: HomeOpt = None,
) -> None:
    """Rebuild a past run from its logged data vintage and configuration and check that every number matches."""
    from pipelines.run.pipeline import reproduce as rebuild

    try:
        checks = rebuild(_settings(home), run_id)
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    frame = pl.DataFrame([dataclasses.asdict(c) for c in checks])
    _emit(frame, Fmt.table, f"reproduce {run_id}")
    if all(c.matches for c in checks):
        out.print("every number matches")
        return
    out.print("[bold red]some tables differ[/bold red] (see notes)")
    raise typer.Exit(1)


models_app = typer.Typer(
    help="The kpi-forecaster registry: list versions, compare, promote.", no_args_is_help=True
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(home: HomeOpt = None) -> None:
    """Registered kpi-forecaster versions with aliases and backtest scores per data vintage."""
    from pipelines.cli import display
    from pipelines.tracking.tracker import Tracker

    versions = Tracker(_settings(home)).versions()
    _emit(
        display.model_versions(versions),
        Fmt.table,
        "kpi-forecaster",
    )


@models_app.command("compare")
def models_compare(home: HomeOpt = None) -> None:
    """Champion vs challenger on the latest data vintage both were scored on (lower is better)."""
    from pipelines.tracking.model_registry import compare

    try:
        text = compare(_settings(home))
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    out.print(text)


@models_app.command("promote")
def models_promote(
    version: Annotated[str, typer.Argument(help="The version to put in production.")],
    force: Annotated[bool, typer.Option(help="Promote even if it does not beat the production version.")] = False,
    reason: Annotated[
        str | None, typer.Option(help="Why (required with --force; logged on the version).")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Put a version in production — only if its backtest beats the production version's on the same data vintage."""
    from pipelines.tracking.model_registry import PromotionRefused, promote

    try:
        message = promote(_settings(home), version, force=force, reason=reason)
    except (PromotionRefused, LookupError) as exc:
        raise _fail(str(exc)) from exc
    out.print(message)


@app.command("mlflow-ui")
def mlflow_ui(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 5000,
    home: HomeOpt = None,
) -> None:
    """Serve the MLflow UI on this home's store (runs, metrics, fan charts, the model registry)."""
    import subprocess

    from pipelines.tracking.tracker import artifact_location, tracking_uri

    settings = _settings(home)
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        tracking_uri(settings),
        "--host",
        host,
        "--port",
        str(port),
    ]
    root = artifact_location(settings)
    if root:
        cmd += ["--default-artifact-root", root]
    out.print(f"MLflow UI on http://{host}:{port}/ ({tracking_uri(settings)})")
    raise typer.Exit(subprocess.call(cmd))


# ---------------------------------------------------------------------------------------------- recovery
@app.command()
def backup(
    to: Annotated[
        Path | None, typer.Option("--to", help="Folder for the backup (default: HOME/backups/<UTC time>).")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Snapshot the warehouse, the published set and the service store (service.db) into one folder.

    The warehouse is copied under the writer lock (no ingest is half in the copy) and the service store
    with SQLite's online backup, so the service may keep running. A damaged home is refused (exit 4).
    """
    from pipelines.io.backup import BackupError
    from pipelines.io.backup import backup as make_backup

    try:
        info = make_backup(_settings(home), to)
    except BackupError as exc:
        raise _fail(str(exc), code=4) from exc
    out.print(
        f"backup in {info.path}: {len(info.files)} files; published set of run {info.published_run_id or '(none)'}"
    )


@app.command()
def restore(
    src: Annotated[Path, typer.Argument(help="A folder made by `dtscope backup`.")],
    home: HomeOpt = None,
) -> None:
    """Bring a backup back: every file is verified against the backup's checksums before anything changes."""
    from pipelines.io.backup import BackupError
    from pipelines.io.backup import restore as bring_back

    settings = _settings(home)
    try:
        info = bring_back(settings, src)
    except BackupError as exc:
        raise _fail(str(exc), code=4) from exc
    out.print(
        f"restored the backup of {info.created_at} into {settings.home} "
        f"(published set of run {info.published_run_id or '(none)'}); `dtscope check` verifies it"
    )


@app.command()
def check(home: HomeOpt = None) -> None:
    """Check the warehouse, the published set and the service store; exit 1 naming what is wrong."""
    from pipelines.io.backup import check as check_home

    problems = check_home(_settings(home))
    if not problems:
        out.print("ok: warehouse, published set and service store are whole")
        return
    for problem in problems:
        console.print(f"[bold red]problem:[/bold red] {problem}")
    raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------- dashboard
@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8050,
    mlflow_ui_url: Annotated[
        str | None,
        typer.Option(help="Base URL of a running MLflow UI, for run links (see `dtscope mlflow-ui`)."),
    ] = "http://127.0.0.1:5000",
    home: HomeOpt = None,
) -> None:
    """Serve the dashboard: overview, KPI, scenarios, models and data pages (reads published tables only)."""
    from dashboard.app import serve
    from pipelines.steps.uploads import UploadHandlers

    settings = _settings(home)
    handlers = UploadHandlers(settings)
    out.print(f"dtscope dashboard on http://{host}:{port}/  (published tables: {settings.published_dir})")
    serve(
        settings.published_dir,
        host,
        port,
        mlflow_ui_url=mlflow_ui_url,
        upload_handler=handlers.validate,
        confirm_handler=handlers.confirm,
    )


# The CLI is the composition root: the service's commands (serve, audit, users, tokens) join it here.
from service.cli import register as _register_service  # noqa: E402

_register_service(app)


def main() -> None:  # pragma: no cover - console-script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
