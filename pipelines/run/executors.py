"""Where per-series work runs: in-process, a local process pool, or a Dask cluster.

The runner hands an executor a pure function and a list of items; results come back in the items' order
whichever executor ran them, so the published numbers do not depend on the choice (a test checks it).
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
ExecutorKind = Literal["inprocess", "processes", "dask"]


class Executor(Protocol):
    """Maps a picklable function over items, preserving order."""

    name: str

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]: ...

    def close(self) -> None: ...


@dataclass
class InProcess:
    """Runs everything in the calling process (the default; easiest to debug)."""

    name: str = "inprocess"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(item) for item in items]

    def close(self) -> None:
        return None


class LocalProcesses:
    """A local process pool with ``workers`` processes.

    Workers are *spawned*, not forked: forking a process whose polars/BLAS thread pools are running can
    deadlock the child. Spawning costs an import per worker, paid once per pool.
    """

    name = "processes"

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        chunk = max(1, len(items) // (4 * self.workers))
        return list(self._pool.map(fn, items, chunksize=chunk))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class DaskExecutor:
    """A Dask cluster: ``scheduler`` is an address (``tcp://host:8786``) or None for a LocalCluster."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int = 2) -> None:
        self.scheduler = scheduler
        self.workers = workers
        self._client: Any = None
        self._cluster: Any = None

    def _connect(self) -> Any:
        if self._client is None:
            from dask.distributed import Client, LocalCluster

            if self.scheduler:
                log.info("connecting to the Dask scheduler at %s", self.scheduler)
                self._client = Client(self.scheduler)
            else:
                self._cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
                self._client = Client(self._cluster)
        return self._client

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        client = self._connect()
        futures = client.map(fn, list(items), pure=False)
        return list(client.gather(futures))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_executor(
    kind: ExecutorKind = "inprocess", *, workers: int = 2, scheduler: str | None = None
) -> Executor:
    """Build an executor by name; an unknown name is an error that lists the known ones."""
    if kind == "inprocess":
        return InProcess()
    if kind == "processes":
        return LocalProcesses(workers)
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    raise ValueError(f"unknown executor {kind!r}: use inprocess, processes or dask")
