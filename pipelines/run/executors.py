"""Where per-series work runs: in-process, a local process pool, or a Dask cluster.

The runner hands an executor a pure function and a list of items; results come back in the items' order
whichever executor ran them, so the published numbers do not depend on the choice (a test checks it).
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
ExecutorKind = Literal["inprocess", "processes", "dask"]


class Executor(Protocol):
    """Maps a picklable function over items, preserving order.

    ``imap(fn, items, shared)`` yields ``fn(shared, item)`` in the items' order as results arrive (a
    caller writes or counts each as it comes); ``shared`` (a fitted model, a plan) is sent to each worker
    once, not once per item. ``run`` is ``list(imap(...))``: the ``mapper`` that
    :func:`models.champion.chunked.fit_chunked` takes.
    """

    name: str

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]: ...

    def imap(
        self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any = None
    ) -> Iterator[Any]: ...

    def run(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any = None) -> list[Any]: ...

    def close(self) -> None: ...


class _Ordered:
    """``run`` from ``imap`` (shared by the executors)."""

    def imap(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any = None) -> Iterator[Any]:
        raise NotImplementedError

    def run(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any = None) -> list[Any]:
        return list(self.imap(fn, items, shared))


@dataclass
class InProcess(_Ordered):
    """Runs everything in the calling process (the default; easiest to debug)."""

    name: str = "inprocess"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(item) for item in items]

    def imap(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any = None) -> Iterator[Any]:
        return (fn(shared, item) for item in items)

    def close(self) -> None:
        return None


class LocalProcesses(_Ordered):
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

    def imap(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any = None) -> Iterator[Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        # one item per task: the items are chunks of series already, and results come back in order
        return self._pool.map(functools.partial(fn, shared), items)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class DaskExecutor(_Ordered):
    """A Dask cluster: ``scheduler`` is an address (``tcp://host:8786``) or None for a LocalCluster."""

    name = "dask"

    def __init__(
        self, scheduler: str | None = None, workers: int = 2, task_stream: Path | None = None
    ) -> None:
        self.scheduler = scheduler
        self.workers = workers
        self.task_stream = task_stream
        self._client: Any = None
        self._cluster: Any = None
        self._stream: Any = None

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
            if self.task_stream is not None:
                from dask.distributed import get_task_stream

                self._stream = get_task_stream(client=self._client)
                self._stream.__enter__()
        return self._client

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        client = self._connect()
        futures = client.map(fn, list(items), pure=False)
        return list(client.gather(futures))

    def imap(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any = None) -> Iterator[Any]:
        """Tasks for every item at once; results taken in order and released, so finished chunks do
        not pile up. A task whose worker dies is run again elsewhere by the scheduler (the inputs are
        the item and the shared value, replicated on every worker)."""
        client = self._connect()
        held = client.scatter(shared, broadcast=True, hash=False) if shared is not None else None
        name = getattr(getattr(fn, "fn", fn), "__name__", "task")  # a chunk loader wraps the phase function
        batch = uuid.uuid4().hex[:8]
        futures = [
            client.submit(fn, held, item, pure=False, key=f"{name}-{batch}-{i}")
            for i, item in enumerate(items)
        ]

        def results() -> Iterator[Any]:
            try:
                for future in futures:
                    value = future.result()
                    future.release()
                    yield value
            finally:
                for future in futures:
                    future.release()
                if held is not None:
                    held.release()

        return results()

    def close(self) -> None:
        if self._stream is not None and self.task_stream is not None:
            self._stream.__exit__(None, None, None)
            _write_task_stream(self._stream.data, self.task_stream)
            self._stream = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _write_task_stream(data: list[dict[str, Any]], target: Path) -> None:
    """The Dask task stream as CSV: one row per task phase (key, worker, action, start, stop in seconds)."""
    import polars as pl

    from pipelines.io.catalog import write_csv

    rows = [
        {
            "key": str(t.get("key")),
            "name": str(t.get("key")).split("-")[0].strip("('\""),
            "worker": str(t.get("worker")),
            "action": str(s.get("action")),
            "start": float(s.get("start", 0.0)),
            "stop": float(s.get("stop", 0.0)),
        }
        for t in data
        for s in t.get("startstops", ())
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "key": pl.String,
            "name": pl.String,
            "worker": pl.String,
            "action": pl.String,
            "start": pl.Float64,
            "stop": pl.Float64,
        },
    )
    if frame.height:
        frame = frame.with_columns((pl.col(c) - frame["start"].min()).alias(c) for c in ("start", "stop"))
    write_csv(frame, target)


def make_executor(
    kind: ExecutorKind = "inprocess",
    *,
    workers: int = 2,
    scheduler: str | None = None,
    task_stream: Path | None = None,
) -> Executor:
    """Build an executor by name; an unknown name is an error that lists the known ones.

    ``task_stream``: for ``dask``, where to save the task stream (CSV) when the executor is closed.
    """
    if kind == "inprocess":
        return InProcess()
    if kind == "processes":
        return LocalProcesses(workers)
    if kind == "dask":
        return DaskExecutor(scheduler, workers, task_stream)
    raise ValueError(f"unknown executor {kind!r}: use inprocess, processes or dask")
