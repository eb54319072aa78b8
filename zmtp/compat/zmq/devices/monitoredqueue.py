"""``zmq.devices.monitoredqueue``: :func:`zmtp.devices.monitored_queue` (Cython in pyzmq)."""

from __future__ import annotations

from zmtp.devices import monitored_queue

__all__ = ["monitored_queue"]
