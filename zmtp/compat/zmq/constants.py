"""``zmq.constants``: libzmq's numbers and pyzmq's enums, from :mod:`zmtp.constants`."""

from __future__ import annotations

from zmtp.constants import *  # noqa: F403  (the whole module is the interface)
