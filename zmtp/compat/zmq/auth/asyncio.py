"""``zmq.auth.asyncio``: the authenticator as an asyncio task."""

from __future__ import annotations

from zmtp.auth import AsyncioAuthenticator

__all__ = ["AsyncioAuthenticator"]
