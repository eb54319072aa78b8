"""Request/reply with Deferreds: real REQ and REP, and the seed's DEALER/ROUTER helpers.

- :class:`ZmqReqConnection` is a real REQ socket. ``request(parts, timeout=)`` returns a
  Deferred that fires with the reply's frames. Requests go out one at a time (REQ's rule);
  later ones wait in order. It starts with libzmq's REQ_RELAXED and REQ_CORRELATE on, so a
  request that timed out or was cancelled does not wedge the socket: the next request goes out
  and a late reply to the old one is dropped by the socket. (Set both to 0 for a strict REQ;
  then a request that never gets its reply blocks the ones after it.)
- :class:`ZmqRepConnection` is a real REP socket: each request is handed to ``callback`` (or
  :meth:`~ZmqRepConnection.gotRequest`) with a message id, and ``reply(message_id, parts)``
  answers it. As REP requires, the next request is taken only once the current one is answered.
- :class:`ZmqXREQConnection` and :class:`ZmqXREPConnection` keep the seed's names and its wire
  format: a DEALER that sends ``[message_id, b"", *parts]`` with a fresh UUID per request, so
  many requests can be in flight, and a ROUTER that keeps each request's routing frames until
  it is answered, so many can be served at once. They talk to REQ/REP peers too. The ROUTER
  has ROUTER_MANDATORY on, so a reply waits for room instead of being dropped at SNDHWM.

Timeouts fail the Deferred with :class:`ZmqRequestTimeoutError` and forget the request, and
cancelling a request's Deferred does the same with CancelledError.
"""

from __future__ import annotations

import struct
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from zmtp.constants import SocketOption, SocketType
from zmtp.pipe import Message
from zmtp.twisted._types import DelayedCall
from zmtp.twisted.connection import MessageLike, ZmqConnection, to_message
from zmtp.twisted.factory import ZmqFactory

RequestCallback = Callable[[bytes, list[bytes]], object]
"""What serving connections call with each request: ``callback(message_id, parts)``."""

_COUNTER = struct.Struct(">Q")


class ZmqRequestTimeoutError(Exception):
    """A request got no reply within its timeout; the argument is the request's message id."""


@dataclass(eq=False)
class _Request:
    message_id: bytes
    parts: Message
    done: Deferred[list[bytes]]
    timer: DelayedCall | None = None


class _Requester(ZmqConnection):
    """What both requesting classes share: ids, timeouts and cancellation of requests."""

    def _start(self, request: _Request, timeout: float | None) -> None:
        if timeout is not None:
            if timeout < 0:
                raise ValueError(f"timeout must be >= 0 seconds, got {timeout!r}")
            request.timer = self.factory.reactor.callLater(timeout, self._expire, request)

    def _expire(self, request: _Request) -> None:
        request.timer = None
        if self._forget(request):
            request.done.errback(ZmqRequestTimeoutError(request.message_id))

    def _drop(self, request: _Request) -> None:
        """Forget a cancelled request and its timer."""
        if request.timer is not None and request.timer.active():
            request.timer.cancel()
        request.timer = None
        self._forget(request)

    def _send_failed(self, failure: Failure, request: _Request) -> None:
        if self._forget(request):
            request.done.errback(failure)

    def _finish(self, request: _Request, reply: list[bytes]) -> None:
        if request.timer is not None and request.timer.active():
            request.timer.cancel()
        request.timer = None
        request.done.callback(reply)

    def _forget(self, request: _Request) -> bool:
        """Drop ``request`` from the books; False if it was already answered."""
        raise NotImplementedError

    def shutdown(self) -> Deferred[None]:
        """Shut down; requests still waiting for replies fail with CancelledError."""
        closing = super().shutdown()
        for request in self._outstanding():
            request.done.cancel()
        return closing

    def _outstanding(self) -> list[_Request]:
        raise NotImplementedError


class ZmqReqConnection(_Requester):
    """A real REQ socket with :meth:`request`; see the module docstring."""

    socketType = SocketType.REQ

    def __init__(
        self, factory: ZmqFactory, callback: Callable[[list[bytes]], object] | None = None
    ) -> None:
        super().__init__(factory, callback)
        self.setsockopt(SocketOption.REQ_RELAXED, 1)
        self.setsockopt(SocketOption.REQ_CORRELATE, 1)
        self._queue: deque[_Request] = deque()
        self._in_flight: _Request | None = None
        self._serial = 0

    def request(self, parts: MessageLike, timeout: float | None = None) -> Deferred[list[bytes]]:
        """Send a request; the Deferred fires with the reply's frames (or the timeout error)."""
        self._check_open()
        self._serial += 1
        message = to_message(parts)
        done: Deferred[list[bytes]] = Deferred(lambda _: self._drop(request))
        request = _Request(_COUNTER.pack(self._serial), message, done)
        self._start(request, timeout)
        self._queue.append(request)
        self._next()
        return request.done

    def _next(self) -> None:
        if self._in_flight is None and self._queue and not self._shut_down:
            request = self._queue.popleft()
            self._in_flight = request
            self.send(request.parts).addErrback(self._send_failed, request)

    def messageReceived(self, message: list[bytes]) -> None:
        """Fire the waiting request with its reply and send the next one.

        A reply to a request made with plain ``send`` goes to ``callback``.
        """
        request, self._in_flight = self._in_flight, None
        if request is None:
            super().messageReceived(message)
            return
        self._finish(request, message)
        self._next()

    def _forget(self, request: _Request) -> bool:
        if request is self._in_flight:
            self._in_flight = None
            self._next()
            return True
        if request in self._queue:
            self._queue.remove(request)
            return True
        return False

    def _outstanding(self) -> list[_Request]:
        pending = list(self._queue)
        return pending if self._in_flight is None else [self._in_flight, *pending]


class ZmqXREQConnection(_Requester):
    """The seed's request helper: a DEALER sending ``[message_id, b"", *parts]``."""

    socketType = SocketType.DEALER

    def __init__(
        self, factory: ZmqFactory, callback: Callable[[list[bytes]], object] | None = None
    ) -> None:
        super().__init__(factory, callback)
        self._requests: dict[bytes, _Request] = {}

    def _next_id(self) -> bytes:
        """Return a message id no other request of any peer will use (a random UUID)."""
        return uuid.uuid4().bytes

    def request(self, parts: MessageLike, timeout: float | None = None) -> Deferred[list[bytes]]:
        """Send a request; the Deferred fires with the reply's frames (or the timeout error)."""
        self._check_open()
        message_id = self._next_id()
        done: Deferred[list[bytes]] = Deferred(lambda _: self._drop(request))
        request = _Request(message_id, to_message(parts), done)
        self._start(request, timeout)
        self._requests[message_id] = request
        self.send([message_id, b"", *request.parts]).addErrback(self._send_failed, request)
        return request.done

    def messageReceived(self, message: list[bytes]) -> None:
        """Match a reply ``[message_id, b"", *parts]`` to its request; drop late ones."""
        if len(message) < 2 or message[1]:
            self.log.warn("{connection} dropped a reply without an envelope", connection=self)
            return
        request = self._requests.pop(message[0], None)
        if request is not None:
            self._finish(request, message[2:])

    def _forget(self, request: _Request) -> bool:
        return self._requests.pop(request.message_id, None) is not None

    def _outstanding(self) -> list[_Request]:
        return list(self._requests.values())


class _Replier(ZmqConnection):
    """What both serving classes share: the request callback."""

    def __init__(self, factory: ZmqFactory, callback: RequestCallback | None = None) -> None:
        super().__init__(factory)
        self.callback = callback

    def gotRequest(self, message_id: bytes, parts: list[bytes]) -> None:
        """Handle one request; calls ``callback(message_id, parts)`` unless overridden."""
        if self.callback is None:
            self.log.warn("{connection} has no callback: request dropped", connection=self)
            return
        self.callback(message_id, parts)


class ZmqRepConnection(_Replier):
    """A real REP socket: one request at a time, each answered with :meth:`reply`."""

    socketType = SocketType.REP

    def __init__(self, factory: ZmqFactory, callback: RequestCallback | None = None) -> None:
        super().__init__(factory, callback)
        self._serial = 0
        self._current: bytes | None = None

    def messageReceived(self, message: list[bytes]) -> None:
        """Give the request an id and hand it on; no other is taken until it is answered."""
        self._serial += 1
        self._current = _COUNTER.pack(self._serial)
        self.gotRequest(self._current, message)

    def _may_receive(self) -> bool:
        return self._current is None

    def reply(self, message_id: bytes, parts: MessageLike) -> Deferred[None]:
        """Answer the request ``message_id``; fires once the reply is queued."""
        self._check_open()
        if message_id != self._current:
            raise KeyError(f"no request {message_id!r} is waiting for a reply on this REP")
        message = to_message(parts)
        self._current = None
        sent = self.send(message)
        self._changed()  # the next request may be taken now
        return sent


class ZmqXREPConnection(_Replier):
    """The seed's reply helper: a ROUTER serving many requests at once."""

    socketType = SocketType.ROUTER

    def __init__(self, factory: ZmqFactory, callback: RequestCallback | None = None) -> None:
        super().__init__(factory, callback)
        # A reply waits for room under SNDHWM instead of being dropped (ROUTER's default);
        # one to a peer that has left fails its Deferred with EHOSTUNREACH.
        self.setsockopt(SocketOption.ROUTER_MANDATORY, 1)
        self._routing: dict[bytes, list[bytes]] = {}

    def messageReceived(self, message: list[bytes]) -> None:
        """Split ``[routing..., message_id, b"", *parts]``, remember the route, hand it on.

        The message id is the frame before the delimiter: a REQ peer's routing id, the
        request id of a REQ with REQ_CORRELATE, or the UUID of a ZmqXREQConnection. Ids are
        kept per connection, so two peers that used the same id would collide (UUIDs do not).
        """
        try:
            delimiter = message.index(b"", 1)
        except ValueError:
            self.log.warn("{connection} dropped a request without a delimiter", connection=self)
            return
        routing, message_id = message[: delimiter - 1], message[delimiter - 1]
        self._routing[message_id] = routing
        self.gotRequest(message_id, message[delimiter + 1 :])

    def reply(self, message_id: bytes, parts: MessageLike) -> Deferred[None]:
        """Answer the request ``message_id``; fires once the reply is queued."""
        self._check_open()
        routing = self._routing.pop(message_id, None)
        if routing is None:
            raise KeyError(f"no request {message_id!r} is waiting for a reply")
        return self.send([*routing, message_id, b"", *to_message(parts)])
