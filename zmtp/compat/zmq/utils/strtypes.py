"""``zmq.utils.strtypes``: pyzmq's Python 2 era string helpers (deprecated there since 23)."""

from __future__ import annotations

import builtins
import warnings

__all__ = [
    "asbytes",
    "b",
    "basestring",
    "bytes",
    "cast_bytes",
    "cast_unicode",
    "u",
    "unicode",
]

bytes = builtins.bytes  # pyzmq's name for the type
unicode = str
basestring = (str,)


def _deprecated() -> None:
    warnings.warn(
        "zmq.utils.strtypes is deprecated: use str.encode and bytes.decode",
        DeprecationWarning,
        stacklevel=3,
    )


def cast_bytes(
    s: str | builtins.bytes, encoding: str = "utf8", errors: str = "strict"
) -> builtins.bytes:
    """Return ``s`` as bytes, encoding a str."""
    _deprecated()
    if isinstance(s, builtins.bytes):
        return s
    if isinstance(s, str):
        return s.encode(encoding, errors)
    raise TypeError(f"expected str or bytes, got {s!r}")


def cast_unicode(s: str | builtins.bytes, encoding: str = "utf8", errors: str = "strict") -> str:
    """Return ``s`` as str, decoding bytes."""
    _deprecated()
    if isinstance(s, builtins.bytes):
        return s.decode(encoding, errors)
    if isinstance(s, str):
        return s
    raise TypeError(f"expected str or bytes, got {s!r}")


b = asbytes = cast_bytes
u = cast_unicode
