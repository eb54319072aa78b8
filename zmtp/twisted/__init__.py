"""ZeroMQ for Twisted, driven natively by the reactor (no threads, no libzmq).

The API follows the refactored txZMQ design: create a :class:`ZmqFactory`, create connections
from it (one class per socket type), ``bind()``/``connect()`` them as often as needed, receive
multipart messages as lists at ``callback`` or an overridden ``messageReceived``, and
``send()`` messages (the Deferred it returns fires once the message is queued under the
high-water mark). tcp and ipc run through the reactor's own transports, inproc in memory; the
protocol, routing and queueing are zmtp's shared sans-IO core.

Where this differs from the seed design (the refactored txZMQ), on purpose:

- There is no libzmq socket, so connections take no ``socket=`` argument: the second
  positional argument is ``callback``.
- ``ZmqReqConnection``/``ZmqRepConnection`` are real REQ and REP sockets; the seed's
  DEALER/ROUTER-based helpers (many requests in flight) keep the seed's wire format under the
  seed's other names, ``ZmqXREQConnection``/``ZmqXREPConnection``. ``request`` takes no
  ``call_later=``: timeouts are the factory's reactor's ``callLater``.
- ``send`` returns a Deferred and never raises EAGAIN; ``shutdown`` and ``unbind`` return
  Deferreds that fire when the work is done.

The txZMQ 1.0 API, wire quirks included, is :mod:`zmtp.twisted.txzmq`.
"""

from __future__ import annotations

from zmtp.twisted.connection import ZmqConnection
from zmtp.twisted.factory import ZmqFactory
from zmtp.twisted.reqrep import (
    ZmqRepConnection,
    ZmqReqConnection,
    ZmqRequestTimeoutError,
    ZmqXREPConnection,
    ZmqXREQConnection,
)
from zmtp.twisted.sockets import (
    ZmqDealerConnection,
    ZmqPairConnection,
    ZmqPubConnection,
    ZmqPullConnection,
    ZmqPushConnection,
    ZmqRouterConnection,
    ZmqSubConnection,
    ZmqXPubConnection,
    ZmqXSubConnection,
)

__all__ = [
    "ZmqConnection",
    "ZmqDealerConnection",
    "ZmqFactory",
    "ZmqPairConnection",
    "ZmqPubConnection",
    "ZmqPullConnection",
    "ZmqPushConnection",
    "ZmqRepConnection",
    "ZmqReqConnection",
    "ZmqRequestTimeoutError",
    "ZmqRouterConnection",
    "ZmqSubConnection",
    "ZmqXPubConnection",
    "ZmqXREPConnection",
    "ZmqXREQConnection",
    "ZmqXSubConnection",
]
