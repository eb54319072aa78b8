"""``zmq.devices``: pyzmq's background proxies, which are :mod:`zmtp.devices` here.

The submodules keep pyzmq's layout for programs that import from them; every class is
zmtp's own, so ``zmq.devices.Device.context_factory`` and ``zmtp.devices.Device`` are one.
"""

from __future__ import annotations

from . import basedevice, monitoredqueue, monitoredqueuedevice, proxydevice, proxysteerabledevice
from .basedevice import Device, ProcessDevice, ThreadDevice
from .monitoredqueue import monitored_queue
from .monitoredqueuedevice import MonitoredQueue, ProcessMonitoredQueue, ThreadMonitoredQueue
from .proxydevice import ProcessProxy, Proxy, ThreadProxy
from .proxysteerabledevice import ProcessProxySteerable, ProxySteerable, ThreadProxySteerable

__all__ = [
    "Device",
    "MonitoredQueue",
    "ProcessDevice",
    "ProcessMonitoredQueue",
    "ProcessProxy",
    "ProcessProxySteerable",
    "Proxy",
    "ProxySteerable",
    "ThreadDevice",
    "ThreadMonitoredQueue",
    "ThreadProxy",
    "ThreadProxySteerable",
    "basedevice",
    "monitored_queue",
    "monitoredqueue",
    "monitoredqueuedevice",
    "proxydevice",
    "proxysteerabledevice",
]
