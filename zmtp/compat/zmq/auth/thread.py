"""``zmq.auth.thread``: the authenticator in a background thread."""

from __future__ import annotations

from zmtp.auth import ThreadAuthenticator

__all__ = ["ThreadAuthenticator"]
