"""Fault injection for the fault-tolerance tests: one place reads ``DTSCOPE_FAULT``.

``DTSCOPE_FAULT=after:<point>`` makes the process SIGKILL itself when it reaches ``<point>`` (a step
boundary of ``dtscope run`` such as ``score`` or ``forecast``, or a point inside the publish swap such as
``publish-written``). Unset (always, outside the tests), :func:`fault_point` does nothing. SIGKILL, not an
exception: no ``finally`` block, no ``atexit`` handler and no MLflow "end run" gets to tidy up, exactly as
when the machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "DTSCOPE_FAULT"


def fault_point(name: str) -> None:
    """Kill this process now if ``$DTSCOPE_FAULT`` is ``after:<name>``."""
    wanted = os.environ.get(FAULT_ENV, "")
    if wanted and wanted == f"after:{name}":
        os.kill(os.getpid(), signal.SIGKILL)
