"""``zmq.ssh``: connecting sockets through SSH tunnels (see :mod:`zmq.ssh.tunnel`)."""

from __future__ import annotations

from .tunnel import *  # noqa: F403
from .tunnel import __all__ as __all__
