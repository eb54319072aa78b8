"""``zmq.constants``: libzmq's numbers and pyzmq's enums, from :mod:`zmtp.constants`."""

from __future__ import annotations

from zmtp import constants as _zmtp_constants
from zmtp.constants import *  # noqa: F403  (the whole module is the interface)
from zmtp.constants import _OptType  # noqa: F401  (pyzmq's zmq.constants._OptType)

__all__ = _zmtp_constants.__all__
