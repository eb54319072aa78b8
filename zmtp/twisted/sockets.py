"""One connection class per socket type; the request/reply helpers are in :mod:`.reqrep`."""

from __future__ import annotations

from zmtp.constants import SocketOption, SocketType
from zmtp.twisted.connection import ZmqConnection


class ZmqPubConnection(ZmqConnection):
    """PUB: ``send`` goes to every subscriber whose subscription matches the first frame."""

    socketType = SocketType.PUB


class ZmqSubConnection(ZmqConnection):
    """SUB: receives what matches its subscriptions (none at first, as in libzmq)."""

    socketType = SocketType.SUB

    def subscribe(self, topic: bytes | str) -> None:
        """Receive messages whose first frame starts with ``topic`` (b"" for all)."""
        self.setsockopt(SocketOption.SUBSCRIBE, topic)

    def unsubscribe(self, topic: bytes | str) -> None:
        """Drop one subscription to ``topic``."""
        self.setsockopt(SocketOption.UNSUBSCRIBE, topic)


class ZmqXPubConnection(ZmqConnection):
    """XPUB: a PUB that also receives its subscribers' (un)subscriptions as messages."""

    socketType = SocketType.XPUB


class ZmqXSubConnection(ZmqConnection):
    """XSUB: a SUB whose subscriptions are sent as messages (1 or 0, then the topic)."""

    socketType = SocketType.XSUB


class ZmqPushConnection(ZmqConnection):
    """PUSH: round-robin to the connected PULL peers."""

    socketType = SocketType.PUSH


class ZmqPullConnection(ZmqConnection):
    """PULL: fair-queued from the connected PUSH peers."""

    socketType = SocketType.PULL


class ZmqPairConnection(ZmqConnection):
    """PAIR: exactly one peer."""

    socketType = SocketType.PAIR


class ZmqDealerConnection(ZmqConnection):
    """DEALER: round-robin out, fair-queued in, no envelope."""

    socketType = SocketType.DEALER


class ZmqRouterConnection(ZmqConnection):
    """ROUTER: messages arrive prefixed with the sender's routing id; send to one by it."""

    socketType = SocketType.ROUTER
