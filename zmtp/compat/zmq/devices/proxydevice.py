"""``zmq.devices.proxydevice``: the proxy devices, from :mod:`zmtp.devices`.

pyzmq's ``ProxyBase`` is a mixin to combine with a launcher (``ThreadDevice``...); ``Proxy``
combines the same way here, so it stands in for it.
"""

from __future__ import annotations

from zmtp.devices import ProcessProxy, Proxy, ThreadProxy

ProxyBase = Proxy

__all__ = ["ProcessProxy", "Proxy", "ProxyBase", "ThreadProxy"]
