"""``zmq.devices.monitoredqueuedevice``: the monitored-queue devices, from :mod:`zmtp.devices`.

pyzmq's ``MonitoredQueueBase`` is a mixin to combine with a launcher (``ThreadDevice``...);
``MonitoredQueue`` combines the same way here, so it stands in for it.
"""

from __future__ import annotations

from zmtp.devices import MonitoredQueue, ProcessMonitoredQueue, ThreadMonitoredQueue

MonitoredQueueBase = MonitoredQueue

__all__ = ["MonitoredQueue", "MonitoredQueueBase", "ProcessMonitoredQueue", "ThreadMonitoredQueue"]
