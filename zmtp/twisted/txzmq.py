"""txZMQ 1.0's API on zmtp.twisted: port a txZMQ program by changing its imports.

``from txzmq import ...`` becomes ``from zmtp.twisted.txzmq import ...``. The names,
signatures and overridable methods are txZMQ 1.0's, and so is what goes over the wire, so a
program ported here keeps talking to programs still running txZMQ on libzmq. The quirks kept
on purpose, because txZMQ peers depend on them:

- **PUB glues the tag to the message**: ``publish(message, tag)`` sends *one* frame: the tag,
  a NUL byte, then the message. A SUB subscribed to ``tag`` therefore also receives tags that
  merely start with it (``b"ab"`` matches tag ``b"abc"``). ``gotMessage(message, tag)`` splits
  at the first NUL, and also accepts a two-frame ``[tag, message]`` as txZMQ does.
- **REQ is a DEALER**: ``sendMsg(*parts)`` sends ``[uuid, b"", *parts]``, so many requests can
  be in flight; the Deferred fires with the reply's frames after the envelope. A REP or ROUTER
  peer sees the 16-byte UUID as the frame before the delimiter.
- **REP is a ROUTER**: ``gotMessage(messageId, *parts)`` gets the frame before the delimiter
  as ``messageId``, and ``reply(messageId, *parts)`` sends the routing frames back with it.
  A reply to a peer that has left, or one over SNDHWM, is dropped, as txZMQ's ROUTER does.
- **Options are class attributes** (``highWaterMark``, ``reconnectInterval``,
  ``tcpKeepalive``...), read when a connection is created; ``highWaterMark = 0`` (txZMQ's
  default) means no limit. ``identity=`` sets the routing id.

Where this differs from txZMQ 1.0, on purpose:

- ``send()`` (and ``publish``, ``push``, ``sendMsg``...) never raises EAGAIN: with no peer yet,
  or over a set high-water mark, the message waits in order, and the Deferred ``send`` returns
  fires once it is queued (txZMQ raised ``ZMQError(EAGAIN)`` from libzmq's non-blocking send).
- ``ZmqFactory.registerForShutdown`` shuts down in the reactor's ``before`` shutdown phase and
  the reactor waits for it, so queued messages get their LINGER to leave (txZMQ used
  ``during``, without waiting). ``ZmqFactory`` takes an optional ``reactor=``.
- ``ZmqSubConnection`` hands a frame without a NUL to ``gotMessage(frame, b"")`` instead of
  failing with a TypeError.
- The multicast settings (``allowLoopbackMulticast``, ``multicastRate``) are accepted and
  ignored: zmtp has no multicast transport. There is no ``socket``/``fd`` attribute: there is
  no libzmq socket underneath.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple

from twisted.internet.defer import Deferred

from zmtp.constants import SocketOption, SocketType
from zmtp.twisted.connection import MessageLike
from zmtp.twisted.connection import ZmqConnection as _Connection
from zmtp.twisted.factory import ZmqFactory
from zmtp.twisted.reqrep import ZmqRequestTimeoutError
from zmtp.twisted.reqrep import ZmqXREPConnection as _RouterReplier
from zmtp.twisted.reqrep import ZmqXREQConnection as _DealerRequester

__all__ = [
    "ZmqConnection",
    "ZmqDealerConnection",
    "ZmqEndpoint",
    "ZmqEndpointType",
    "ZmqFactory",
    "ZmqPubConnection",
    "ZmqPullConnection",
    "ZmqPushConnection",
    "ZmqREPConnection",
    "ZmqREQConnection",
    "ZmqRequestTimeoutError",
    "ZmqRouterConnection",
    "ZmqSubConnection",
    "ZmqXREPConnection",
    "ZmqXREQConnection",
]

_O = SocketOption


class ZmqEndpointType:
    """Whether a :class:`ZmqEndpoint` is bound or connected."""

    bind = "bind"
    connect = "connect"


class ZmqEndpoint(NamedTuple):
    """An endpoint to bind or connect at construction: ``ZmqEndpoint("bind", "tcp://*:5555")``."""

    type: str
    address: str


class ZmqConnection(_Connection):
    """txZMQ's base connection: endpoints at construction, options as class attributes."""

    socketType: ClassVar[SocketType]
    allowLoopbackMulticast = False
    multicastRate = 100
    highWaterMark = 0
    tcpKeepalive = 0
    tcpKeepaliveCount = 0
    tcpKeepaliveIdle = 0
    tcpKeepaliveInterval = 0
    reconnectInterval = 100
    reconnectIntervalMax = 0
    identity: bytes | None = None

    def __init__(
        self,
        factory: ZmqFactory,
        endpoint: ZmqEndpoint | None = None,
        identity: bytes | None = None,
    ) -> None:
        super().__init__(factory)
        self.endpoints: list[ZmqEndpoint] = []
        self.identity = identity
        self.setsockopt(_O.SNDHWM, self.highWaterMark)
        self.setsockopt(_O.RCVHWM, self.highWaterMark)
        if self.tcpKeepalive:
            self.setsockopt(_O.TCP_KEEPALIVE, self.tcpKeepalive)
            self.setsockopt(_O.TCP_KEEPALIVE_CNT, self.tcpKeepaliveCount)
            self.setsockopt(_O.TCP_KEEPALIVE_IDLE, self.tcpKeepaliveIdle)
            self.setsockopt(_O.TCP_KEEPALIVE_INTVL, self.tcpKeepaliveInterval)
        if self.reconnectInterval:
            self.setsockopt(_O.RECONNECT_IVL, self.reconnectInterval)
        if self.reconnectIntervalMax:
            self.setsockopt(_O.RECONNECT_IVL_MAX, self.reconnectIntervalMax)
        if identity is not None:
            self.setsockopt(_O.ROUTING_ID, identity)
        if endpoint:
            self.addEndpoints([endpoint])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.factory!r}, {self.endpoints!r})"

    def addEndpoints(self, endpoints: Iterable[ZmqEndpoint]) -> None:
        """Bind or connect each endpoint, in order."""
        for endpoint in endpoints:
            if endpoint.type == ZmqEndpointType.connect:
                self.connect(endpoint.address)
            elif endpoint.type == ZmqEndpointType.bind:
                self.bind(endpoint.address)
            else:
                raise ValueError(f"endpoint type {endpoint.type!r} is neither 'bind' nor 'connect'")
            self.endpoints.append(endpoint)

    def messageReceived(self, message: list[bytes]) -> None:
        """Handle one multipart message: subclasses override this, as in txZMQ."""
        raise NotImplementedError(self)


class ZmqPubConnection(ZmqConnection):
    """PUB whose ``publish`` glues the tag to the message (txZMQ's wire format)."""

    socketType = SocketType.PUB

    def publish(self, message: bytes, tag: bytes = b"") -> Deferred[None]:
        """Send the tag, a NUL byte and the message as one frame."""
        return self.send(tag + b"\0" + message)


class ZmqSubConnection(ZmqConnection):
    """SUB that splits txZMQ's glued frames; override ``gotMessage(message, tag)``."""

    socketType = SocketType.SUB

    def subscribe(self, tag: bytes) -> None:
        """Receive messages whose (glued) frame starts with ``tag``."""
        self.setsockopt(_O.SUBSCRIBE, tag)

    def unsubscribe(self, tag: bytes) -> None:
        """Drop one subscription to ``tag``."""
        self.setsockopt(_O.UNSUBSCRIBE, tag)

    def messageReceived(self, message: list[bytes]) -> None:
        """Split the frame at its first NUL (or take ``[tag, message]``) and call ``gotMessage``."""
        if len(message) == 2:
            self.gotMessage(message[1], message[0])
            return
        tag, separator, body = message[0].partition(b"\0")
        if not separator:
            tag, body = b"", message[0]
        self.gotMessage(body, tag)

    def gotMessage(self, message: bytes, tag: bytes) -> None:
        """Handle one published message; override this."""
        raise NotImplementedError(self)


class ZmqPushConnection(ZmqConnection):
    """PUSH with txZMQ's ``push``."""

    socketType = SocketType.PUSH

    def push(self, message: MessageLike) -> Deferred[None]:
        """Send ``message`` (one frame or a list of frames)."""
        return self.send(message)


class ZmqPullConnection(ZmqConnection):
    """PULL; override ``onPull(message)``."""

    socketType = SocketType.PULL

    def messageReceived(self, message: list[bytes]) -> None:
        """Pass the message (a list of frames) to ``onPull``."""
        self.onPull(message)

    def onPull(self, message: list[bytes]) -> None:
        """Handle one pulled message; override this."""
        raise NotImplementedError(self)


class ZmqREQConnection(ZmqConnection, _DealerRequester):
    """txZMQ's REQ: a DEALER with ``sendMsg(*parts, timeout=)`` returning a Deferred."""

    socketType = SocketType.DEALER
    defaultRequestTimeout: float | None = None

    def sendMsg(self, *messageParts: bytes, **kwargs: Any) -> Deferred[list[bytes]]:
        """Send a request; fires with the reply's frames, or fails with a timeout error."""
        timeout = kwargs.pop("timeout", None)
        if kwargs:
            raise TypeError(f"sendMsg() got unexpected keyword arguments {sorted(kwargs)}")
        if timeout is None:
            timeout = self.defaultRequestTimeout
        return self.request(list(messageParts), timeout=timeout)

    def messageReceived(self, message: list[bytes]) -> None:
        """Match the reply to its request (late replies are dropped)."""
        _DealerRequester.messageReceived(self, message)


class ZmqREPConnection(ZmqConnection, _RouterReplier):
    """txZMQ's REP: a ROUTER; override ``gotMessage(messageId, *parts)``, answer with reply."""

    socketType = SocketType.ROUTER

    def __init__(
        self,
        factory: ZmqFactory,
        endpoint: ZmqEndpoint | None = None,
        identity: bytes | None = None,
    ) -> None:
        super().__init__(factory, endpoint, identity)
        self.setsockopt(_O.ROUTER_MANDATORY, 0)  # txZMQ's ROUTER drops what it cannot route

    def messageReceived(self, message: list[bytes]) -> None:
        """Split the envelope and call ``gotMessage(messageId, *parts)``."""
        _RouterReplier.messageReceived(self, message)

    def gotRequest(self, message_id: bytes, parts: list[bytes]) -> None:
        """Pass the request on in txZMQ's form."""
        self.gotMessage(message_id, *parts)

    def gotMessage(self, messageId: bytes, *messageParts: bytes) -> None:
        """Handle one request; override this and answer with :meth:`reply`."""
        raise NotImplementedError(self)

    def reply(self, messageId: bytes, *messageParts: bytes) -> Deferred[None]:  # type: ignore[override]
        """Answer the request ``messageId`` with ``messageParts``."""
        return _RouterReplier.reply(self, messageId, list(messageParts))


class ZmqXREQConnection(ZmqREQConnection):
    """Deprecated txZMQ alias of :class:`ZmqREQConnection`, endpoints as arguments."""

    def __init__(self, factory: ZmqFactory, *endpoints: ZmqEndpoint) -> None:
        warnings.warn(
            "ZmqXREQConnection is deprecated in favour of ZmqREQConnection",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(factory)
        self.addEndpoints(endpoints)


class ZmqXREPConnection(ZmqREPConnection):
    """Deprecated txZMQ alias of :class:`ZmqREPConnection`, endpoints as arguments."""

    def __init__(self, factory: ZmqFactory, *endpoints: ZmqEndpoint) -> None:
        warnings.warn(
            "ZmqXREPConnection is deprecated in favour of ZmqREPConnection",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(factory)
        self.addEndpoints(endpoints)


class _Uniform(ZmqConnection):
    """txZMQ's ``ZmqBase``: ``sendMsg``/``sendMultipart`` and ``gotMessage(*frames)``."""

    def sendMsg(self, message: bytes) -> Deferred[None]:
        """Send a one-frame message."""
        return self.sendMultipart([message])

    def sendMultipart(self, parts: list[bytes]) -> Deferred[None]:
        """Send a multipart message."""
        return self.send(parts)

    def messageReceived(self, message: list[bytes]) -> None:
        """Call ``gotMessage`` with the frames as arguments."""
        self.gotMessage(*message)

    def gotMessage(self, *args: bytes) -> None:
        """Handle one message; override this."""
        raise NotImplementedError(self)


class ZmqDealerConnection(_Uniform):
    """Raw DEALER in txZMQ's uniform style."""

    socketType = SocketType.DEALER


class ZmqRouterConnection(_Uniform):
    """Raw ROUTER: ``sendMsg(recipientId, message)``, ``gotMessage(senderId, *frames)``."""

    socketType = SocketType.ROUTER

    def sendMsg(self, recipientId: bytes, message: bytes) -> Deferred[None]:  # type: ignore[override]
        """Send one frame to the peer ``recipientId``."""
        return self.send([recipientId, message])

    def sendMultipart(self, recipientId: bytes, parts: list[bytes]) -> Deferred[None]:  # type: ignore[override]
        """Send a multipart message to the peer ``recipientId``."""
        return self.send([recipientId, *parts])

    def messageReceived(self, message: list[bytes]) -> None:
        """Call ``gotMessage(senderId, *frames)``."""
        self.gotMessage(*message)
