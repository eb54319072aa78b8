"""ZmqFactory: the reactor, the inproc names and the connections of one Twisted program.

It plays the part of a ZeroMQ context for :mod:`zmtp.twisted`: every connection created from a
factory runs on its reactor and can reach the factory's other connections over ``inproc://``.
There is no I/O thread and nothing to terminate beyond the connections themselves.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred, gatherResults

from zmtp.twisted._driver import FactoryInproc
from zmtp.twisted._types import Reactor

if TYPE_CHECKING:
    from zmtp.twisted.connection import ZmqConnection


class ZmqFactory:
    """Create connections from this; ``shutdown()`` closes them all.

    ``reactor`` is any Twisted reactor (select, poll, epoll, asyncio...); None means the
    global ``twisted.internet.reactor``, imported only then, so that passing a reactor never
    installs the default one. ``lingerPeriod`` (ms) is the LINGER each new connection starts
    with, as txZMQ's factory sets it (libzmq's own default, -1, could keep ``shutdown()``
    waiting forever for a peer that never comes).
    """

    lingerPeriod = 100

    def __init__(self, reactor: Reactor = None) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor  # noqa: PLC0415

            reactor = default_reactor
        self.reactor: Reactor = reactor
        self.connections: set[ZmqConnection] = set()
        self.inproc = FactoryInproc()
        self._trigger: object | None = None

    def __repr__(self) -> str:
        return f"ZmqFactory(connections={len(self.connections)})"

    def shutdown(self) -> Deferred[None]:
        """Shut every connection down (each honours its LINGER); fires when all are closed."""
        if self._trigger is not None:
            trigger, self._trigger = self._trigger, None
            with contextlib.suppress(ValueError, KeyError):  # already removed
                self.reactor.removeSystemEventTrigger(trigger)
        closing = [connection.shutdown() for connection in list(self.connections)]
        done: Deferred[None] = Deferred()
        gatherResults(closing).addCallbacks(lambda _: done.callback(None), done.errback)
        return done

    def registerForShutdown(self) -> None:
        """Shut down before the reactor stops, letting queued messages leave (up to LINGER).

        The trigger runs in the reactor's ``before`` shutdown phase, and the reactor waits for
        the Deferred it returns, so messages still queued are flushed to connected peers.
        """
        if self._trigger is None:
            self._trigger = self.reactor.addSystemEventTrigger(
                "before", "shutdown", self._reactor_stopping
            )

    def _reactor_stopping(self) -> Deferred[None]:
        self._trigger = None  # firing: it is not ours to remove any more
        return self.shutdown()
