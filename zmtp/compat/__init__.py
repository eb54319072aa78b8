"""A ``zmq`` package backed by zmtp, for pyzmq programs that cannot have libzmq.

It never shadows a real pyzmq by accident: the package lives in a directory of its own, which
``python -m zmtp.compat --path`` prints; put that directory first on ``PYTHONPATH`` (or
``sys.path``) and ``import zmq`` resolves to zmtp. The layout is pyzmq's: the top level,
``zmq.backend`` and ``zmq.sugar`` (zmtp's classes under pyzmq's module names), ``zmq.asyncio``,
``zmq.error``, ``zmq.constants``, ``zmq.devices``, ``zmq.auth``, ``zmq.utils``,
``zmq.decorators``, ``zmq.log.handlers`` (PUBHandler) and ``zmq.ssh.tunnel`` (OpenSSH
tunnels only). Version functions and ``zmq.has()`` answer for zmtp, never for a libzmq.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["path"]


def path() -> str:
    """Return the directory that holds the ``zmq`` compatibility package."""
    return str(Path(__file__).resolve().parent)
