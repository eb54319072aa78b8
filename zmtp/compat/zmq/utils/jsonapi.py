"""``zmq.utils.jsonapi``: pyzmq's JSON helpers (UTF-8 bytes out, bytes or str in)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps", "loads"]

#: pyzmq keeps this name from when it chose among JSON libraries; it is the standard one.
jsonmod = json


def dumps(o: Any, **kwargs: Any) -> bytes:
    """Serialise ``o`` to JSON as UTF-8 bytes."""
    return json.dumps(o, **kwargs).encode("utf-8")


def loads(s: bytes | str, **kwargs: Any) -> Any:
    """Parse JSON from bytes (UTF-8) or str."""
    if isinstance(s, bytes):
        s = s.decode("utf-8")
    return json.loads(s, **kwargs)
