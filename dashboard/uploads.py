"""Checks on a file uploaded on the Data page, before the project's ingest rules see it (pure functions)."""

from __future__ import annotations

import base64
import binascii
from pathlib import PurePath
from typing import Any

from dashboard.i18n import format_size

UPLOAD_SUFFIXES = (".csv", ".xlsx", ".xlsm")


def decode_upload(contents: str) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL (``data:<mime>;base64,<payload>``).

    >>> decode_upload("data:text/csv;base64,YSxiCg==")
    b'a,b\\n'
    """
    _, _, payload = contents.partition(",")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the upload is not valid base64 data ({exc}); choose the file again") from exc


def check_upload(filename: str, size: int, limit: int) -> tuple[str, dict[str, Any]] | None:
    """The label key and values of the message refusing an upload, or None when it may be validated.

    >>> check_upload("a.pdf", 10, 100)[0], check_upload("a.csv", 200, 100)[0], check_upload("a.CSV", 10, 100)
    ('data.bad_type', 'data.too_big', None)
    """
    if PurePath(filename).suffix.lower() not in UPLOAD_SUFFIXES:
        return "data.bad_type", {"file": filename}
    if size > limit:
        return "data.too_big", too_big_values(filename, size, limit)
    return None


def too_big_values(filename: str, size: float, limit: float) -> dict[str, Any]:
    """The values of the ``data.too_big`` message: the file, its size and the limit.

    >>> too_big_values("a.csv", 3 * 1024 * 1024, 1024 * 1024)
    {'file': 'a.csv', 'size': '3 MB', 'limit': '1 MB'}
    """
    return {"file": filename, "size": format_size(size), "limit": format_size(limit)}
