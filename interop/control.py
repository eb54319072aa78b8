"""The control channel between the interop tests and the libzmq peer process (peer.py).

One JSON object per line each way: the test writes a command, the peer answers it. This module
holds what both ends must agree on and nothing else, so it imports only the standard library:
peer.py (which must never import zmtp) and the test side (which must never run libzmq in its
own interpreter) both use it.

Frames travel as base64 strings. Large frames do not travel at all, because a 16 MiB message
pushed through JSON twice would cost more than the ZeroMQ transfer it is checking:

* to send one, the test names it as ``{"size": n, "seed": s}`` and the peer builds the same
  bytes with :func:`payload`;
* a received frame longer than ``inline_max`` comes back as ``{"size": n, "sha256": hex}``,
  which the test compares with the digest of what it expected (:func:`fingerprint`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

INLINE_MAX = 4096
"""Received frames up to this size come back whole; longer ones as a digest."""

_BLOCK = 65521
"""Period of the generated payloads: a prime, so a shifted or reordered slice does not line
up with the original by accident."""


@dataclass(frozen=True)
class Payload:
    """A large frame named by its size and seed; both processes can build its bytes."""

    size: int
    seed: int

    def build(self) -> bytes:
        return payload(self.size, self.seed)


@dataclass(frozen=True)
class Digest:
    """A frame reduced to its size and SHA-256, for comparing frames too large to ship."""

    size: int
    sha256: str

    def __str__(self) -> str:
        return f"<{self.size} bytes sha256:{self.sha256[:12]}>"


def payload(size: int, seed: int) -> bytes:
    """Return ``size`` deterministic pseudo-random bytes for ``seed`` (fast for 16 MiB)."""
    block = hashlib.shake_256(seed.to_bytes(8, "big")).digest(_BLOCK)
    repeats, rest = divmod(size, _BLOCK)
    return block * repeats + block[:rest]


def fingerprint(frame: bytes | Payload | Digest, inline_max: int = INLINE_MAX) -> bytes | Digest:
    """Reduce a frame to what the peer would report for it: the bytes, or a :class:`Digest`."""
    if isinstance(frame, Digest):
        return frame
    if isinstance(frame, Payload):
        if frame.size <= inline_max:
            return frame.build()
        return _payload_digest(frame.size, frame.seed)
    if len(frame) <= inline_max:
        return frame
    return Digest(len(frame), hashlib.sha256(frame).hexdigest())


@lru_cache(maxsize=16)
def _payload_digest(size: int, seed: int) -> Digest:
    """Digest of a generated payload, computed once: every cell compares against it."""
    return Digest(size, hashlib.sha256(payload(size, seed)).hexdigest())


def encode_frame(frame: bytes | Payload) -> Any:
    """Return the JSON form of a frame to send."""
    if isinstance(frame, Payload):
        return {"size": frame.size, "seed": frame.seed}
    return base64.b64encode(frame).decode("ascii")


def decode_frame(value: Any) -> bytes:
    """Return the bytes of a frame to send, from its JSON form (peer side)."""
    if isinstance(value, dict):
        return payload(int(value["size"]), int(value["seed"]))
    return base64.b64decode(value)


def encode_received(frame: bytes, inline_max: int = INLINE_MAX) -> Any:
    """Return the JSON form of a received frame: base64, or a digest when large (peer side)."""
    if len(frame) <= inline_max:
        return base64.b64encode(frame).decode("ascii")
    return {"size": len(frame), "sha256": hashlib.sha256(frame).hexdigest()}


def decode_received(value: Any) -> bytes | Digest:
    """Return a received frame from its JSON form (test side)."""
    if isinstance(value, dict):
        return Digest(int(value["size"]), str(value["sha256"]))
    return base64.b64decode(value)


def encode_value(value: bytes | int | str) -> Any:
    """Return the JSON form of a socket option value (bytes are tagged so they survive)."""
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    return value


def decode_value(value: Any) -> bytes | int | str:
    """Inverse of :func:`encode_value`."""
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    if isinstance(value, int | str):
        return value
    raise ValueError(f"not an option value: {value!r}")


def dumps(obj: dict[str, Any]) -> bytes:
    """One control line."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def show(frame: bytes | Payload | Digest, limit: int = 24) -> str:
    """A short, readable form of a frame for transcripts and failure messages."""
    if isinstance(frame, Payload):
        frame = fingerprint(frame)
    if isinstance(frame, Digest):
        return str(frame)
    if len(frame) > limit:
        if len(set(frame)) == 1:
            return f"{frame[:1]!r}*{len(frame)}"
        return f"{frame[:limit]!r}...({len(frame)} bytes)"
    return repr(frame)


def show_message(frames: list[Any]) -> str:
    """A readable multipart message: ``[b'id', b'', b'x'*255]``."""
    return "[" + ", ".join(show(frame) for frame in frames) + "]"
