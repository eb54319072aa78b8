"""Run a scenario on a fresh, never-installed reactor, bounded, and check it cleaned up.

Each test gets its own reactor instance (select, poll, epoll or asyncio) passed to
``ZmqFactory(reactor=...)``: reactors cannot be restarted, and the global one is never touched.
A scenario is an ``async def`` taking the factory; it awaits Deferreds. :func:`run` stops the
reactor when the scenario ends, fails the test with the scenario's error, and fails it clearly
if the bound passes first. Helpers here wait for events, never for time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet import asyncioreactor, defer, epollreactor, pollreactor, selectreactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.python.failure import Failure

from zmtp.twisted import ZmqFactory

REACTOR_KINDS = ("select", "poll", "epoll", "asyncio")
DEFAULT_BOUND = 10.0


class ScenarioTimeout(AssertionError):
    """The scenario did not finish within its bound."""


def make_reactor(kind: str) -> Any:
    """Return a fresh reactor of ``kind`` (not installed as the global reactor)."""
    if kind == "select":
        return selectreactor.SelectReactor()
    if kind == "poll":
        return pollreactor.PollReactor()
    if kind == "epoll":
        return epollreactor.EPollReactor()
    if kind == "asyncio":
        return asyncioreactor.AsyncioSelectorReactor(asyncio.new_event_loop())
    raise ValueError(kind)


def run(
    kind: str,
    scenario: Callable[[ZmqFactory], Coroutine[Any, Any, Any]],
    bound: float = DEFAULT_BOUND,
) -> Any:
    """Run ``scenario(factory)`` on a fresh reactor of ``kind``; return what it returned."""
    reactor = make_reactor(kind)
    factory = ZmqFactory(reactor=reactor)
    outcome: list[Any] = []

    def finished(result: object) -> None:
        outcome.append(result)
        if reactor.running:
            reactor.stop()

    def expired() -> None:
        outcome.append(Failure(ScenarioTimeout(f"scenario still running after {bound} s")))
        reactor.stop()

    def start() -> None:
        done = Deferred.fromCoroutine(scenario(factory))
        done.addBoth(finished)

    timer = reactor.callLater(bound, expired)
    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    if timer.active():
        timer.cancel()
    close_reactor(reactor, kind)
    assert outcome, "the reactor stopped before the scenario ended"
    result = outcome[0]
    if isinstance(result, Failure):
        result.raiseException()
    return result


def close_reactor(reactor: Any, kind: str) -> None:
    """Release the reactor's own descriptors (its waker, the asyncio loop)."""
    for selectable in list(reactor.getReaders()) + list(reactor.getWriters()):
        reactor.removeReader(selectable)
        reactor.removeWriter(selectable)
    waker = getattr(reactor, "waker", None)
    if waker is not None:
        waker.connectionLost(None)
    if kind == "asyncio":
        reactor._asyncioEventloop.close()


class Inbox:
    """Collect messages from a callback; ``wait(n)`` fires once ``n`` have arrived."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self._waiters: list[tuple[int, Deferred[list[Any]]]] = []

    def __call__(self, *message: Any) -> None:
        self.messages.append(message[0] if len(message) == 1 else message)
        ready = [(n, d) for n, d in self._waiters if len(self.messages) >= n]
        self._waiters = [(n, d) for n, d in self._waiters if len(self.messages) < n]
        for _, waiting in ready:
            waiting.callback(self.messages[:])

    async def wait_for(self, wanted: Any) -> list[Any]:
        """Return all messages so far once ``wanted`` is among them."""
        while wanted not in self.messages:
            await self.wait(len(self.messages) + 1)
        return self.messages[:]

    def wait(self, count: int = 1) -> Deferred[list[Any]]:
        """Fire with all messages so far once at least ``count`` have arrived."""
        if len(self.messages) >= count:
            return defer.succeed(self.messages[:])
        waiting: Deferred[list[Any]] = Deferred()
        self._waiters.append((count, waiting))
        return waiting


def turn(reactor: Any) -> Deferred[None]:
    """Fire on the next reactor turn (to let scheduled work run, not to wait for time)."""
    return deferLater(reactor, 0, lambda: None)
