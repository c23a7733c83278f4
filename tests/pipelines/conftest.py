"""Shared by the pipeline tests: the file contracts' OUT header lines and a forecast step that fails for one KPI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.steps import forecast as F

# The OUT header lines of the two file contracts (../shared/DESIGN.md), exactly as outside tools read them.
FORECAST_HEADER = "series_id,period,mean,q0.025,q0.1,q0.5,q0.9,q0.975,model"
ATTAIN_HEADER = "series_id,target_period,p_reach,status,anticipated_growth,required_growth,expected_period"


def header(path: Path) -> str:
    """The first line of a written CSV."""
    with path.open(encoding="utf-8") as fh:
        return fh.readline().rstrip("\r\n")


@pytest.fixture
def fail_forecast_of(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """``fail_forecast_of(kpi_id, message)``: every forecast group holding ``kpi_id`` raises
    ``RuntimeError(message)``; the other groups run as usual."""

    def arm(kpi_id: str, message: str) -> None:
        real = F._forecast_group

        def flaky(task: F.GroupTask) -> F.GroupResult:
            if any(s.kpi_id == kpi_id for s in task.specs):
                raise RuntimeError(message)
            return real(task)

        monkeypatch.setattr(F, "_forecast_group", flaky)

    return arm
