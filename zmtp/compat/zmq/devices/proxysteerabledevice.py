"""``zmq.devices.proxysteerabledevice``: the steerable proxy devices, from :mod:`zmtp.devices`.

pyzmq's ``ProxySteerableBase`` is a mixin to combine with a launcher; ``ProxySteerable``
combines the same way here, so it stands in for it.
"""

from __future__ import annotations

from zmtp.devices import ProcessProxySteerable, ProxySteerable, ThreadProxySteerable

ProxySteerableBase = ProxySteerable

__all__ = ["ProcessProxySteerable", "ProxySteerable", "ProxySteerableBase", "ThreadProxySteerable"]
