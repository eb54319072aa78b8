"""``zmq.backend``: what pyzmq's compiled backend exports, here zmtp's pure-Python classes.

Code that inspects the backend (``zmq.backend.Socket.__module__``) finds zmtp, neither
pyzmq's Cython nor its CFFI backend.
"""

from __future__ import annotations

from zmtp import Context, Frame, Socket, curve_keypair, curve_public, strerror

from .. import has, zmq_version_info

Message = Frame

__all__ = [
    "Context",
    "Frame",
    "Message",
    "Socket",
    "curve_keypair",
    "curve_public",
    "has",
    "strerror",
    "zmq_version_info",
]
