"""What a round freezes at opening: the resolved scheme (YAML text + SHA-256) and its inputs (Parquet).

The scenario metrics and street outcomes are reference tables that a later ``dtscope demo``/pipeline run
replaces wholesale (they carry no vintages), so a round keeps a byte copy of the rows it scores instead
of a pointer: the scenarios of its regions, their monthly metrics and the street outcomes of those
regions, each as Parquet inside one uncompressed zip. ``vintage`` records the warehouse's newest
observation vintage at opening, so the report says which data the round saw.
"""

from __future__ import annotations

import hashlib
import io
import math
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from evaluation.assessment.scheme import SCHEME_DIR, Scheme, SchemeError, parse_scheme, resolve_scheme_data

FRAMES = ("scenarios", "scenario_metrics", "street_outcomes")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed member times: the same frames give the same bytes


@dataclass(frozen=True)
class FrozenScheme:
    name: str
    text: str
    sha256: str
    scheme: Scheme


@dataclass(frozen=True)
class Inputs:
    """A round's frozen input frames (``evaluation.tables`` layouts)."""

    scenarios: pl.DataFrame
    scenario_metrics: pl.DataFrame
    street_outcomes: pl.DataFrame


def scheme_path(name: str, scheme_dir: Path = SCHEME_DIR) -> Path:
    """The scheme file ``<name>.yaml`` of the registry (``SchemeError`` when absent)."""
    path = scheme_dir / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in scheme_dir.glob("*.yaml"))
        raise SchemeError(f"unknown scheme {name!r}; known: {', '.join(known)}")
    return path


def freeze_scheme(name: str, scheme_dir: Path = SCHEME_DIR) -> FrozenScheme:
    """Resolve the scheme ``name`` (extends merged, AHP file inlined) into one YAML text."""
    data, ahp = resolve_scheme_data(scheme_path(name, scheme_dir))
    text = yaml.safe_dump({"scheme": data, "ahp": ahp}, allow_unicode=True, sort_keys=True)
    return FrozenScheme(name, text, hashlib.sha256(text.encode()).hexdigest(), thaw_scheme(text, name))


def thaw_scheme(text: str, name: str) -> Scheme:
    """The :class:`Scheme` of a frozen text (errors quote ``round:<name>.yaml``)."""
    doc = yaml.safe_load(text)
    return parse_scheme(doc["scheme"], Path(f"round-frozen/{name}.yaml"), ahp_data=doc["ahp"])


def pack(inputs: Inputs) -> bytes:
    """The frames as Parquet members of one zip (deterministic for the same frames)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for name in FRAMES:
            part = io.BytesIO()
            getattr(inputs, name).write_parquet(part, compression="zstd", statistics=False)
            z.writestr(zipfile.ZipInfo(f"{name}.parquet", date_time=_ZIP_TIME), part.getvalue())
    return buf.getvalue()


def unpack(blob: bytes) -> Inputs:
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        frames = {name: pl.read_parquet(io.BytesIO(z.read(f"{name}.parquet"))) for name in FRAMES}
    return Inputs(**frames)


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def read_inputs(home: Path, regions: tuple[str, ...], period_end: date) -> tuple[Inputs, datetime | None]:
    """The warehouse's current scenarios (of ``regions``, launched by ``period_end``), their metrics and the
    street outcomes of ``regions``, with the newest observation vintage."""
    from pipelines.io.warehouse import Warehouse
    from pipelines.settings import resolve_settings

    settings = resolve_settings(home)
    wh = Warehouse(settings.warehouse_path, lock_path=settings.lock_path, lock_timeout=10.0)
    scenarios = (
        wh.table("scenarios")
        .filter(pl.col("region").is_in(list(regions)) & (pl.col("launch_date") <= period_end))
        .sort("scenario_id")
    )
    ids = scenarios["scenario_id"].to_list()
    metrics = wh.table("scenario_metrics").filter(pl.col("scenario_id").is_in(ids)).sort(
        "scenario_id", "indicator_id", "period"
    )
    outcomes = wh.table("street_outcomes").filter(pl.col("region").is_in(list(regions))).sort(
        "region", "street", "outcome", "period"
    )
    vintages = wh.vintages()
    return Inputs(scenarios, metrics, outcomes), (vintages[-1] if vintages else None)


def as_json_value(value: Any) -> Any:
    """A JSON-safe scalar (non-finite floats → ``None``; dates → ISO text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
