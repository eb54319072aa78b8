"""``zmq.utils.z85``: Z85 (RFC 32), from :mod:`zmtp.z85`."""

from __future__ import annotations

from zmtp.z85 import decode, encode

__all__ = ["decode", "encode"]
