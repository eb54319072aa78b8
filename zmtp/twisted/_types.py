"""Names for the Twisted objects this package holds, as mypy can check them.

Twisted describes reactors, delayed calls, transports, connectors and listening ports with
zope interfaces, which mypy cannot type-check without the mypy-zope plugin (a method called
on an ``IDelayedCall`` looks unbound to it). These aliases say which interface is meant while
letting mypy treat the objects as ``Any``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

Reactor: TypeAlias = Any
"""A reactor providing IReactorTime, IReactorTCP, IReactorUNIX and IReactorCore."""

DelayedCall: TypeAlias = Any
"""An IDelayedCall from ``reactor.callLater``."""

Transport: TypeAlias = Any
"""An ITCPTransport or IUNIXTransport (also IProducer and IConsumer)."""

Connector: TypeAlias = Any
"""An IConnector from ``connectTCP``/``connectUNIX``."""

ListeningPort: TypeAlias = Any
"""An IListeningPort from ``listenTCP``/``listenUNIX``."""
