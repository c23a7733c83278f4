"""The only module that talks to MLflow: runs, artifacts, and the model registry.

Where runs go is set here, once: a sqlite database ``mlruns/mlflow.db`` with artifacts under
``mlruns/artifacts`` (inside the dtscope home's ``mlruns`` folder). ``MLFLOW_TRACKING_URI`` overrides it, so a
team can point at an MLflow server backed by PostgreSQL without touching code.

Runs are created with explicit ids through :class:`mlflow.MlflowClient` rather than the fluent API's global
"active run", so nested pipeline steps and per-series children never depend on hidden state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import platform
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

EXPERIMENT = "dtscope"
FORECASTER = "kpi-forecaster"
SCHEME = "scenario-scheme"
# Registry aliases: the version the product runs, and the latest candidate. ("champion" names the forecasting
# procedure in models.champion; the alias it used to share is read as the production alias in old stores.)
PRODUCTION, CHALLENGER = "production", "challenger"
LEGACY_ALIASES = {PRODUCTION: "champion"}
TRACKED_PACKAGES = ("numpy", "polars", "duckdb", "statsmodels", "scikit-learn", "prophet", "mlflow", "scipy")


def tracking_uri(settings: Settings) -> str:
    """``$MLFLOW_TRACKING_URI`` if set, else the sqlite store in the home's ``mlruns/``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{settings.mlruns_dir / 'mlflow.db'}"


def artifact_location(settings: Settings) -> str | None:
    """Artifacts live beside the sqlite store; a server configures its own."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    return (settings.mlruns_dir / "artifacts").resolve().as_uri()


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def git_commit() -> str:
    """The project's git commit (``+dirty`` when the tree has changes), or ``unknown`` outside git."""
    try:
        head = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def environment_tags() -> dict[str, str]:
    """Tags that make a run traceable: code version, Python and package versions."""
    tags = {"dtscope.git_commit": git_commit(), "dtscope.python": platform.python_version()}
    for pkg in TRACKED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            tags[f"dtscope.version.{pkg}"] = metadata.version(pkg)
    return tags


def config_hash(config: dict[str, Any]) -> str:
    """A stable short hash of a JSON-serialisable configuration.

    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Tracker:
    """Explicit-id MLflow runs for one experiment.

    Args:
        settings: where the store is.
        experiment: the experiment name.
    """

    def __init__(self, settings: Settings, *, experiment: str = EXPERIMENT) -> None:
        self.settings = settings
        self.experiment = experiment
        self._client: Any = None
        self._experiment_id: str | None = None

    # -------------------------------------------------------------------- set-up
    @property
    def client(self) -> Any:
        if self._client is None:
            from mlflow import MlflowClient

            self.settings.mlruns_dir.mkdir(parents=True, exist_ok=True)
            uri = tracking_uri(self.settings)
            self._client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        return self._client

    @property
    def experiment_id(self) -> str:
        if self._experiment_id is None:
            exp = self.client.get_experiment_by_name(self.experiment)
            if exp is None:
                self._experiment_id = self.client.create_experiment(
                    self.experiment, artifact_location=artifact_location(self.settings)
                )
            else:
                self._experiment_id = exp.experiment_id
        return self._experiment_id

    @property
    def uri(self) -> str:
        return tracking_uri(self.settings)

    # -------------------------------------------------------------------- runs
    @contextlib.contextmanager
    def run(
        self,
        name: str,
        *,
        parent: str | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> Iterator[str]:
        """Start a run (a child when ``parent`` is given); it ends FINISHED, or FAILED with the error logged."""
        all_tags = {"mlflow.runName": name, **_owner_tags(), **(tags or {})}
        if parent:
            all_tags["mlflow.parentRunId"] = parent
        run = self.client.create_run(self.experiment_id, run_name=name, tags=all_tags)
        run_id: str = run.info.run_id
        if params:
            self.log_params(run_id, params)
        try:
            yield run_id
        except BaseException as exc:
            self.client.set_tag(run_id, "dtscope.error", f"{type(exc).__name__}: {exc}"[:5000])
            self.client.set_terminated(run_id, status="FAILED")
            raise
        self.client.set_terminated(run_id, status="FINISHED")

    def failed_child(
        self,
        name: str,
        *,
        parent: str,
        error: str,
        params: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Record a child run that failed (its error as a tag and a text artifact), without raising."""
        run = self.client.create_run(
            self.experiment_id,
            run_name=name,
            tags={
                **(tags or {}),
                "mlflow.runName": name,
                "mlflow.parentRunId": parent,
                "dtscope.error": error[:5000],
            },
        )
        if params:
            self.log_params(run.info.run_id, params)
        self.log_text(run.info.run_id, error, "error.txt")
        self.client.set_terminated(run.info.run_id, status="FAILED")
        return str(run.info.run_id)

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(k, str(v)[:6000]) for k, v in params.items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i : i + 100])

    def log_metrics(self, run_id: str, metrics: dict[str, float], *, step: int = 0) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None and math.isfinite(v)
        ]
        for i in range(0, len(items), 500):
            self.client.log_batch(run_id, metrics=items[i : i + 500])

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_table(self, run_id: str, frame: pl.DataFrame, name: str) -> None:
        """Log a frame as ``tables/<name>.parquet``."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.parquet"
            frame.write_parquet(path)
            self.client.log_artifact(run_id, str(path), artifact_path="tables")

    def log_file(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(run_id, str(path), artifact_path=artifact_path)

    def log_text(self, run_id: str, text: str, name: str) -> None:
        self.client.log_text(run_id, text, name)

    def download_table(self, run_id: str, name: str) -> pl.DataFrame:
        """Read back a table logged with :meth:`log_table`."""
        with tempfile.TemporaryDirectory() as tmp:
            local = self.client.download_artifacts(run_id, f"tables/{name}.parquet", tmp)
            return pl.read_parquet(local)

    def get_run(self, run_id: str) -> Any:
        return self.client.get_run(run_id)

    def run_exists(self, run_id: str) -> bool:
        """Whether the store still holds ``run_id`` (False after the store was replaced or the run deleted)."""
        try:
            run = self.client.get_run(run_id)
        except Exception:  # MLflow raises its own exception type for an unknown id
            return False
        return bool(run.info.lifecycle_stage == "active")

    def mark_orphans_killed(self, reason: str) -> list[str]:
        """Mark RUNNING runs whose process is gone as KILLED, with ``reason`` in the tag ``dtscope.killed``.

        A run is an orphan when the process that started it (tags ``dtscope.pid``/``dtscope.host``) no
        longer runs on this host, or when it carries no owner tags at all (made before they existed).
        Runs of live processes and of other hosts are left alone.

        Returns:
            The ids of the runs marked.
        """
        marked = []
        for run in self.search_runs("attributes.status = 'RUNNING'"):
            tags = run.data.tags
            if not _owner_gone(tags.get("dtscope.pid"), tags.get("dtscope.host")):
                continue
            run_id = run.info.run_id
            self.client.set_tag(run_id, "dtscope.killed", reason[:5000])
            self.client.set_terminated(run_id, status="KILLED")
            marked.append(run_id)
        return marked

    def search_runs(self, filter_string: str = "", max_results: int = 5000) -> list[Any]:
        return list(
            self.client.search_runs(
                [self.experiment_id], filter_string=filter_string, max_results=max_results
            )
        )

    def ui_url(self, run_id: str | None = None, base: str = "http://127.0.0.1:5000") -> str:
        if run_id is None:
            return f"{base}/#/experiments/{self.experiment_id}"
        return f"{base}/#/experiments/{self.experiment_id}/runs/{run_id}"

    # -------------------------------------------------------------------- registry
    def register_forecaster(
        self,
        run_id: str,
        config: dict[str, Any],
        *,
        vintage: str,
        backtest_score: float,
        input_example: pl.DataFrame,
        name: str = FORECASTER,
    ) -> ModelVersion:
        """Log the forecasting configuration as a pyfunc model in ``run_id`` and register a version.

        The version carries tags ``config_hash``, ``score:<vintage>`` (the backtest score on that data vintage,
        lower is better) and ``vintage``. A configuration already registered (same hash) is not registered
        again: its version is re-scored on this vintage and returned.
        """
        import mlflow

        chash = config_hash(config)
        existing = self._version_by_hash(name, chash)
        if existing is not None:
            self.client.set_model_version_tag(
                name, existing.version, f"score:{vintage}", f"{backtest_score:.10g}"
            )
            self.client.set_model_version_tag(name, existing.version, "vintage", vintage)
            return existing
        import pandas as pd
        from mlflow.models import infer_signature

        example = input_example.to_pandas()
        output = pd.DataFrame(
            {
                "series_id": ["s"],
                "period": [2025],
                "mean": [0.0],
                "q0.025": [0.0],
                "q0.1": [0.0],
                "q0.5": [0.0],
                "q0.9": [0.0],
                "q0.975": [0.0],
                "model": ["dtscope"],
            }
        )
        with _quiet_mlflow():
            signature = infer_signature(example, output, params={"horizon": 3, "kind": "auto"})
        model_file = Path(__file__).with_name("forecaster_model.py")
        with _quiet_mlflow(), _fluent_uri(self.uri), mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name="kpi_forecaster",
                python_model=str(model_file),
                model_config={"config_json": json.dumps(config, sort_keys=True, default=str)},
                signature=signature,
                input_example=example,
                pip_requirements=[f"dtscope=={metadata.version('dtscope')}"],
            )
        with _quiet_mlflow(), _fluent_uri(self.uri):
            mv = mlflow.register_model(info.model_uri, name, tags={"config_hash": chash})
        self.client.set_model_version_tag(name, mv.version, f"score:{vintage}", f"{backtest_score:.10g}")
        self.client.set_model_version_tag(name, mv.version, "vintage", vintage)
        return ModelVersion.from_mlflow(mv, self.client.get_model_version(name, mv.version).tags)

    def register_scheme(
        self, run_id: str, scheme_path: Path, *, label: str, name: str = SCHEME
    ) -> ModelVersion:
        """Register an assessment scheme YAML as a ``scenario-scheme`` version (once per content) and alias it
        ``production`` as the scheme in use; returns the version."""
        import mlflow
        import pandas as pd

        text = scheme_path.read_text(encoding="utf-8")
        chash = hashlib.sha256(text.encode()).hexdigest()[:16]
        existing = self._version_by_hash(name, chash)
        if existing is None:
            example = pd.DataFrame({"indicator_id": ["closed_loop_rate"]})
            with _quiet_mlflow(), _fluent_uri(self.uri), mlflow.start_run(run_id=run_id):
                info = mlflow.pyfunc.log_model(
                    name="scenario_scheme",
                    python_model=str(Path(__file__).with_name("scheme_model.py")),
                    artifacts={"scheme": str(scheme_path)},
                    input_example=example,
                    pip_requirements=[f"dtscope=={metadata.version('dtscope')}"],
                )
            with _quiet_mlflow(), _fluent_uri(self.uri):
                mv = mlflow.register_model(info.model_uri, name, tags={"config_hash": chash, "scheme": label})
            existing = ModelVersion.from_mlflow(mv, {"config_hash": chash, "scheme": label})
        self.set_alias(PRODUCTION, existing.version, name)
        return existing

    def _version_by_hash(self, name: str, chash: str) -> ModelVersion | None:
        try:
            versions = self.client.search_model_versions(f"name = '{name}'")
        except Exception:  # no such registered model yet
            return None
        for mv in versions:
            if mv.tags.get("config_hash") == chash:
                return ModelVersion.from_mlflow(mv, mv.tags)
        return None

    def versions(self, name: str = FORECASTER) -> list[ModelVersion]:
        """Every registered version with its aliases and tags, newest first."""
        try:
            found = self.client.search_model_versions(f"name = '{name}'")
        except Exception:
            return []
        aliases = self._aliases(name)
        out = [ModelVersion.from_mlflow(mv, mv.tags, aliases.get(str(mv.version), [])) for mv in found]
        return sorted(out, key=lambda v: int(v.version), reverse=True)

    def _aliases(self, name: str) -> dict[str, list[str]]:
        try:
            rm = self.client.get_registered_model(name)
        except Exception:
            return {}
        out: dict[str, list[str]] = {}
        for alias, version in (rm.aliases or {}).items():
            out.setdefault(str(version), []).append(alias)
        return out

    def alias_version(self, alias: str, name: str = FORECASTER) -> ModelVersion | None:
        """The version behind ``alias`` (a store made before the rename answers the legacy alias)."""
        for candidate in (alias, LEGACY_ALIASES.get(alias)):
            if candidate is None:
                continue
            try:
                mv = self.client.get_model_version_by_alias(name, candidate)
            except Exception:
                continue
            return ModelVersion.from_mlflow(mv, mv.tags, [alias])
        return None

    def set_alias(self, alias: str, version: str, name: str = FORECASTER) -> None:
        self.client.set_registered_model_alias(name, alias, str(version))

    def tag_version(self, version: str, key: str, value: str, name: str = FORECASTER) -> None:
        self.client.set_model_version_tag(name, str(version), key, value)


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version, as dtscope needs it."""

    name: str
    version: str
    run_id: str
    tags: dict[str, str]
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_mlflow(
        cls, mv: Any, tags: dict[str, str], aliases: list[str] | tuple[str, ...] = ()
    ) -> ModelVersion:
        return cls(
            name=mv.name, version=str(mv.version), run_id=mv.run_id, tags=dict(tags), aliases=tuple(aliases)
        )

    def score(self, vintage: str) -> float | None:
        """Backtest score on ``vintage`` (lower is better), or None when never scored on it."""
        raw = self.tags.get(f"score:{vintage}")
        return float(raw) if raw is not None else None

    @property
    def config_hash(self) -> str:
        return self.tags.get("config_hash", "")


def _owner_tags() -> dict[str, str]:
    return {"dtscope.pid": str(os.getpid()), "dtscope.host": platform.node()}


def _owner_gone(pid: str | None, host: str | None) -> bool:
    """True when the process ``pid`` on ``host`` is known to be gone (no tags: assumed gone)."""
    if pid is None:
        return True
    if host != platform.node() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    # A SIGKILLed child not yet reaped by its parent still answers kill(pid, 0).
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0:1] == ["Z"]


@contextlib.contextmanager
def _fluent_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API (log_model, register_model) at ``uri`` for a block, then undo it.

    ``mlflow.set_tracking_uri`` also exports ``MLFLOW_TRACKING_URI``; left in place, the next home used in
    the same process would read it back as the user's override and write into the wrong store.
    """
    import mlflow

    saved = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow logs INFO chatter on every registration; keep the CLI readable.

    Also silences the one hint MLflow prints for integer columns in a signature: our ``period`` is an
    integer year by contract and never missing.
    """
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Hint: Inferred schema contains integer column", category=UserWarning
            )
            yield
    finally:
        logger.setLevel(level)
