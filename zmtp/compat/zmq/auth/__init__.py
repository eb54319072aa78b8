"""``zmq.auth``: the ZAP authenticator and certificates, from :mod:`zmtp.auth`."""

from __future__ import annotations

from zmtp.auth import (
    CURVE_ALLOW_ANY,
    Authenticator,
    create_certificates,
    load_certificate,
    load_certificates,
)

__all__ = [
    "CURVE_ALLOW_ANY",
    "Authenticator",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]
