"""Reading YAML configuration files with errors that name the file and the key (shared by the KPI registry
and the assessment schemes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


def load_yaml(path: Path, error: type[Exception]) -> Any:
    """Parse a YAML file; a missing or malformed file raises ``error`` naming the file."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc


def validation_message(path: Path, exc: ValidationError) -> str:
    """One line per pydantic problem, each with the dotted key path where it sits in the file."""
    lines = [f"{path}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  at key {key}: {err['msg']}")
    return "\n".join(lines)
