"""A ``zmq`` package backed by zmtp, for pyzmq programs that cannot have libzmq.

It never shadows a real pyzmq by accident: the package lives in a directory of its own, which
``python -m zmtp.compat --path`` prints; put that directory first on ``PYTHONPATH`` (or
``sys.path``) and ``import zmq`` resolves to zmtp. Coverage so far: the top-level API,
``zmq.asyncio``, ``zmq.error``, ``zmq.constants``, ``zmq.utils.{z85,monitor,jsonapi}`` and
``zmq.auth`` (``thread``, ``asyncio``, ``certs``); the rest of pyzmq's layout is issue 7.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["path"]


def path() -> str:
    """Return the directory that holds the ``zmq`` compatibility package."""
    return str(Path(__file__).resolve().parent)
