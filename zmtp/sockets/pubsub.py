"""PUB, XPUB, SUB and XSUB (RFC 29, Publish-Subscribe), filtering at the publisher.

Subscriptions are binary prefixes of a message's first frame. They are counted where they are
made (RFC 29: subscribing twice needs two unsubscribes), so a SUB sends every SUBSCRIBE but a
CANCEL only when the last subscription to a topic goes; the publisher keeps one entry per peer
and topic, as libzmq's mtrie does. SUB and XSUB replay their set to every new peer; PUB and
XPUB send a message only to the peers whose set matches. A peer whose queue is full loses
the message (SNDHWM drop), unless XPUB_NODROP. XPUB also hands subscription changes to the
application as ``0x01``/``0x00`` messages: the first subscribe and the last cancel of a topic,
or every one with XPUB_VERBOSE/XPUB_VERBOSER, and cancels for what a departing peer leaves
unwanted.
"""

from __future__ import annotations

from collections import deque

from zmtp.commands import Cancel, Subscribe
from zmtp.constants import Errno, SocketOption, SocketType
from zmtp.errors import Again, ZMQError
from zmtp.options import OptionValue
from zmtp.pipe import Message, Pipe
from zmtp.sockets.base import Options, SocketCore
from zmtp.sockets.strategies import FairQueue

_O = SocketOption


def _add(counts: dict[bytes, int], topic: bytes) -> bool:
    """Count one subscription; return whether the topic is new."""
    counts[topic] = counts.get(topic, 0) + 1
    return counts[topic] == 1


def _remove(counts: dict[bytes, int], topic: bytes) -> bool:
    """Uncount one subscription; return whether the topic is now gone (False if unknown)."""
    count = counts.get(topic)
    if count is None:
        return False
    if count == 1:
        del counts[topic]
        return True
    counts[topic] = count - 1
    return False


class Pub(SocketCore):
    """Fan out each message to the peers whose subscriptions match its first frame."""

    socket_type = SocketType.PUB
    receives = False

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        # How many peers want each topic: decides which changes XPUB reports.
        self._wanted: dict[bytes, int] = {}
        # Read on every send, so kept as attributes (set_option keeps them in step).
        self._invert = bool(self.option(_O.INVERT_MATCHING))
        self._nodrop = bool(self.option(_O.XPUB_NODROP))

    def subscription(self, pipe: Pipe, topic: bytes, subscribe: bool) -> None:
        """Apply a peer's SUBSCRIBE or CANCEL to its set; tell XPUB what changed."""
        if subscribe:
            first = topic not in pipe.subscriptions and _add(self._wanted, topic)
            pipe.subscriptions.add(topic)
            self._notify(pipe, topic, first, True)
        elif topic in pipe.subscriptions:
            pipe.subscriptions.discard(topic)
            self._notify(pipe, topic, _remove(self._wanted, topic), False)
        else:
            # libzmq's XPUB reports a cancel of a topic the peer never had (mtrie not_found).
            self._notify(pipe, topic, True, False)

    def _detached(self, pipe: Pipe) -> None:
        for topic in pipe.subscriptions:
            self._notify(pipe, topic, _remove(self._wanted, topic), False)
        pipe.subscriptions.clear()

    def _notify(self, pipe: Pipe, topic: bytes, changed: bool, subscribe: bool) -> None:
        """Report a subscription change of ``pipe`` (XPUB does; PUB keeps it to itself)."""

    def set_option(self, option: SocketOption, value: OptionValue) -> None:
        """SUBSCRIBE/UNSUBSCRIBE are XPUB_MANUAL actions; libzmq refuses them otherwise."""
        if option in (_O.SUBSCRIBE, _O.UNSUBSCRIBE):
            if not self.option(_O.XPUB_MANUAL):
                raise ZMQError(
                    Errno.EINVAL, f"{option.name} needs XPUB_MANUAL on a publishing socket"
                )
            assert isinstance(value, bytes)
            self._manual_subscription(value, option is _O.SUBSCRIBE)
            return
        super().set_option(option, value)
        if option is _O.INVERT_MATCHING:
            self._invert = bool(value)
        elif option is _O.XPUB_NODROP:
            self._nodrop = bool(value)

    def _manual_subscription(self, topic: bytes, subscribe: bool) -> None:
        """Apply the application's (un)subscription to the last notice's peer (XPUB only)."""

    def send(self, message: Message) -> None:
        """Queue on every matching peer with room; drop for full ones (EAGAIN if NODROP)."""
        first, invert = message[0], self._invert
        targets = [pipe for pipe in self.pipes if pipe.matches(first) != invert]
        if self._nodrop and not all(pipe.writable() for pipe in targets):
            raise Again()
        for pipe in targets:
            if pipe.writable():
                pipe.write(message)

    def writable(self) -> bool:
        """Say yes: a publisher never blocks, except under XPUB_NODROP with a full peer."""
        if self._nodrop:
            return all(pipe.writable() for pipe in self.pipes)
        return True


class XPub(Pub):
    """A PUB whose application sees subscriptions and upstream messages."""

    socket_type = SocketType.XPUB
    receives = True

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        # Subscription notices, with the peer each came from (XPUB_MANUAL applies the
        # application's SUBSCRIBE to the peer of the last notice it read).
        self._pending: deque[tuple[Message, Pipe]] = deque()
        self._last_pipe: Pipe | None = None
        self._fq = FairQueue()
        # libzmq keeps XPUB_VERBOSE and XPUB_VERBOSER as one state: VERBOSE reports every
        # subscribe and turns cancels back to "last one only"; VERBOSER reports both.
        self._verbose_subscribes = bool(
            self.option(_O.XPUB_VERBOSER) or self.option(_O.XPUB_VERBOSE)
        )
        self._verbose_cancels = bool(self.option(_O.XPUB_VERBOSER))

    def set_option(self, option: SocketOption, value: OptionValue) -> None:
        """Keep XPUB_VERBOSE/VERBOSER in step; in XPUB_MANUAL, (un)subscribe the last peer."""
        super().set_option(option, value)
        if option is _O.XPUB_VERBOSE:
            self._verbose_subscribes = bool(value)
            self._verbose_cancels = False
        elif option is _O.XPUB_VERBOSER:
            self._verbose_subscribes = self._verbose_cancels = bool(value)

    def _attached(self, pipe: Pipe) -> None:
        welcome = self.options.get(_O.XPUB_WELCOME_MSG)
        if isinstance(welcome, bytes) and welcome:
            pipe.write([welcome])
        self._fq.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        super()._detached(pipe)
        self._fq.remove(pipe)

    def _manual_subscription(self, topic: bytes, subscribe: bool) -> None:
        pipe = self._last_pipe
        if pipe is None or not pipe.attached:
            return  # libzmq: nothing to apply it to
        if subscribe:
            if topic not in pipe.subscriptions:
                _add(self._wanted, topic)
            pipe.subscriptions.add(topic)
        elif topic in pipe.subscriptions:
            pipe.subscriptions.discard(topic)
            _remove(self._wanted, topic)

    def subscription(self, pipe: Pipe, topic: bytes, subscribe: bool) -> None:
        """Apply a peer's change, or in XPUB_MANUAL only report it (every one of them)."""
        if self.option(_O.XPUB_MANUAL):
            self._pending.append(([(b"\x01" if subscribe else b"\x00") + topic], pipe))
        else:
            super().subscription(pipe, topic, subscribe)

    def _notify(self, pipe: Pipe, topic: bytes, changed: bool, subscribe: bool) -> None:
        if changed or (self._verbose_subscribes if subscribe else self._verbose_cancels):
            self._pending.append(([(b"\x01" if subscribe else b"\x00") + topic], pipe))

    def recv(self) -> Message:
        """Subscription changes first, then messages the subscribers sent upstream."""
        if self._pending:
            notice, self._last_pipe = self._pending.popleft()
            return notice
        return self._fq.recv_message()

    def readable(self) -> bool:
        """Whether a subscription change or an upstream message waits."""
        return bool(self._pending) or self._fq.readable()


class XSub(SocketCore):
    """Send subscriptions (and other messages) upstream; receive everything unfiltered."""

    socket_type = SocketType.XSUB

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._fq = FairQueue()
        self._subscriptions: dict[bytes, int] = {}

    def _attached(self, pipe: Pipe) -> None:
        # RFC 29: a new peer gets the whole subscription set.
        for topic in self._subscriptions:
            pipe.write(Subscribe(topic))
        self._fq.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        self._fq.remove(pipe)

    def reconnected(self, pipe: Pipe) -> None:
        """Send the whole subscription set again: the new peer knows none of it (RFC 29)."""
        for topic in self._subscriptions:
            pipe.write(Subscribe(topic))

    def _upstream(self, item: Message | Subscribe | Cancel) -> None:
        for pipe in self.pipes:
            if pipe.writable():
                pipe.write(item)

    def send(self, message: Message) -> None:
        """Treat a ``0x01``/``0x00`` first frame as (un)subscribe; send the rest to all peers."""
        first = message[0]
        if first[:1] == b"\x01":
            _add(self._subscriptions, first[1:])
            self._upstream(Subscribe(first[1:]))
        elif first[:1] == b"\x00":
            # libzmq forwards a cancel only when the last subscription to the topic goes.
            if _remove(self._subscriptions, first[1:]):
                self._upstream(Cancel(first[1:]))
        else:
            self._upstream(message)

    def recv(self) -> Message:
        """Fair-queue over the publishers."""
        return self._fq.recv_message()

    def readable(self) -> bool:
        """Whether a publisher's message waits."""
        return self._fq.readable()

    def writable(self) -> bool:
        """XSUB never blocks: full peers lose what is sent."""
        return True


class Sub(XSub):
    """An XSUB driven by SUBSCRIBE/UNSUBSCRIBE options, which also filters what it receives."""

    socket_type = SocketType.SUB

    def send(self, message: Message) -> None:
        """SUB has no send (ENOTSUP); subscribe with the SUBSCRIBE option instead."""
        raise ZMQError(Errno.ENOTSUP, "SUB sockets cannot send; use subscribe()")

    def set_option(self, option: SocketOption, value: OptionValue) -> None:
        """SUBSCRIBE and UNSUBSCRIBE are actions, not stored values."""
        if option is _O.SUBSCRIBE and isinstance(value, bytes):
            super().send([b"\x01" + value])
        elif option is _O.UNSUBSCRIBE and isinstance(value, bytes):
            super().send([b"\x00" + value])
        else:
            super().set_option(option, value)

    def _wanted(self, first_frame: bytes) -> bool:
        invert = bool(self.option(_O.INVERT_MATCHING))
        hit = first_frame.startswith(tuple(self._subscriptions))  # all prefixes, in C
        return hit != invert

    def recv(self) -> Message:
        """Return the next message matching a subscription; drop the rest (local filter)."""
        while True:
            message = super().recv()
            if self._wanted(message[0]):
                return message

    def readable(self) -> bool:
        """Whether a matching message waits (non-matching ones are dropped on the way)."""
        for pipe in self._fq.pipes:
            while pipe.inbound and not self._wanted(pipe.inbound[0][0]):
                pipe.read()
            if pipe.inbound:
                return True
        return False

    def writable(self) -> bool:
        """SUB never sends."""
        return False
