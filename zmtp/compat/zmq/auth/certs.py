"""``zmq.auth.certs``: CURVE certificate files in pyzmq's format."""

from __future__ import annotations

from zmtp.auth import create_certificates, load_certificate, load_certificates

__all__ = ["create_certificates", "load_certificate", "load_certificates"]
