"""DEALER, ROUTER, REQ and REP (RFC 28, Request-Reply), with libzmq 4.3's envelopes.

* DEALER: round-robin out, fair-queue in, no envelope.
* ROUTER: every received message is prefixed with its peer's routing id; a sent message's first
  frame names the peer. Unknown or full peers drop the message, unless ROUTER_MANDATORY.
* REQ: a DEALER that adds an empty delimiter, alternates send/recv strictly (EFSM otherwise)
  and accepts a reply only from the peer it asked.
* REP: takes everything up to the first empty frame as the envelope and replies through it.
"""

from __future__ import annotations

import random
import struct

from zmtp.constants import Errno, SocketOption, SocketType
from zmtp.errors import Again, ZMQError
from zmtp.pipe import Message, Pipe
from zmtp.sockets.base import Options, SocketCore
from zmtp.sockets.strategies import FairQueue, LoadBalancer

_O = SocketOption
_AUTO_ID = struct.Struct(">BI")
_REQUEST_ID = struct.Struct("=I")


class Dealer(SocketCore):
    """Round-robin out, fair-queue in."""

    socket_type = SocketType.DEALER

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._lb = LoadBalancer()
        self._fq = FairQueue()

    def _attached(self, pipe: Pipe) -> None:
        if self.option(_O.PROBE_ROUTER):
            pipe.write([b""])
        self._lb.add(pipe)
        self._fq.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        self._lb.remove(pipe)
        self._fq.remove(pipe)

    def send(self, message: Message) -> None:
        """Queue on the next peer with room."""
        self._lb.send(message)

    def recv(self) -> Message:
        """Take the next message, peers in turn."""
        return self._fq.recv_message()

    def readable(self) -> bool:
        """Whether any peer has a message waiting."""
        return self._fq.readable()

    def writable(self) -> bool:
        """Whether any peer has room."""
        return self._lb.writable()


class Req(Dealer):
    """Strict request/reply alternation over a DEALER."""

    socket_type = SocketType.REQ

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._reply_pipe: Pipe | None = None
        self._expecting_reply = False
        self._request_id = random.getrandbits(32)

    def _detached(self, pipe: Pipe) -> None:
        super()._detached(pipe)
        if pipe is self._reply_pipe:
            # The reply can never come. libzmq leaves the REQ waiting (EFSM on send) unless
            # REQ_RELAXED; we do the same.
            self._reply_pipe = None

    def send(self, message: Message) -> None:
        """Send a request: EFSM while a reply is awaited, unless REQ_RELAXED."""
        if self._expecting_reply and not self.option(_O.REQ_RELAXED):
            raise ZMQError(Errno.EFSM, "REQ must receive the reply before sending again")
        # libzmq's req_t::xsend first throws away whatever replies are already queued: they
        # answer earlier requests (REQ_RELAXED) or are duplicates.
        while self._fq.readable():
            self._fq.recv()
        envelope: Message = [b""]
        if self.option(_O.REQ_CORRELATE):
            self._request_id = (self._request_id + 1) & 0xFFFFFFFF
            envelope = [_REQUEST_ID.pack(self._request_id), b""]
        self._reply_pipe = self._lb.send(envelope + message)
        self._expecting_reply = True

    def recv(self) -> Message:
        """Return the reply body; replies from other peers or without a delimiter are dropped."""
        if not self._expecting_reply:
            raise ZMQError(Errno.EFSM, "REQ must send a request before receiving")
        correlate = self.option(_O.REQ_CORRELATE)
        while True:
            message, pipe = self._fq.recv()
            if pipe is not self._reply_pipe:
                continue
            if correlate:
                if message[0] != _REQUEST_ID.pack(self._request_id):
                    continue
                message = message[1:]
            if len(message) < 2 or message[0]:
                continue
            self._expecting_reply = False
            self._reply_pipe = None
            return message[1:]

    def readable(self) -> bool:
        """Whether the awaited peer has something waiting (it may be dropped on recv)."""
        pipe = self._reply_pipe
        return self._expecting_reply and pipe is not None and bool(pipe.inbound)

    def writable(self) -> bool:
        """Whether a request may go out now."""
        if self._expecting_reply and not self.option(_O.REQ_RELAXED):
            return False
        return self._lb.writable()


class Router(SocketCore):
    """Address peers by routing id."""

    socket_type = SocketType.ROUTER

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._fq = FairQueue()
        self._by_id: dict[bytes, Pipe] = {}
        self._next_auto_id = random.getrandbits(32)

    def attach(self, pipe: Pipe) -> bool:
        """Give the peer its routing id: its Identity, else an automatic one.

        A peer whose id is taken is kept but neither routed to nor read (libzmq's anonymous
        pipes), unless ROUTER_HANDOVER: then it takes the id and the old peer is dropped.
        """
        if not pipe.routing_id:
            self._next_auto_id = (self._next_auto_id + 1) & 0xFFFFFFFF
            pipe.routing_id = _AUTO_ID.pack(0, self._next_auto_id)
        previous = self._by_id.get(pipe.routing_id)
        if previous is not None:
            if not self.option(_O.ROUTER_HANDOVER):
                self.pipes.append(pipe)
                pipe.attached = True
                return True
            self.detach(previous)
            previous.terminate()
        return super().attach(pipe)

    def _attached(self, pipe: Pipe) -> None:
        if self.option(_O.PROBE_ROUTER):
            pipe.write([b""])
        self._by_id[pipe.routing_id] = pipe
        self._fq.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        if self._by_id.get(pipe.routing_id) is pipe:
            del self._by_id[pipe.routing_id]
            self._fq.remove(pipe)

    def send(self, message: Message) -> None:
        """Route by the first frame; unknown or full peers drop it unless ROUTER_MANDATORY."""
        if len(message) < 2:
            return  # libzmq: a lone routing id frame is silently ignored
        pipe = self._by_id.get(message[0])
        mandatory = self.option(_O.ROUTER_MANDATORY)
        if pipe is None:
            if mandatory:
                raise ZMQError(Errno.EHOSTUNREACH, f"no peer with routing id {message[0]!r}")
            return
        if not pipe.writable():
            if mandatory:
                raise Again()
            return
        pipe.write(message[1:])

    def recv(self) -> Message:
        """Prefix the next message with its sender's routing id."""
        message, pipe = self._fq.recv()
        return [pipe.routing_id, *message]

    def readable(self) -> bool:
        """Whether any peer has a message waiting."""
        return self._fq.readable()

    def writable(self) -> bool:
        """Say yes, unless ROUTER_MANDATORY and every peer is full (libzmq xhas_out)."""
        if not self.option(_O.ROUTER_MANDATORY):
            return True
        return any(pipe.writable() for pipe in self._by_id.values())


class Rep(SocketCore):
    """Receive a request with its envelope, reply through the same envelope."""

    socket_type = SocketType.REP

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._fq = FairQueue()
        self._reply_to: tuple[Pipe, Message] | None = None

    def _attached(self, pipe: Pipe) -> None:
        self._fq.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        self._fq.remove(pipe)

    def recv(self) -> Message:
        """Return the next well-formed request's body; EFSM while a reply is owed."""
        if self._reply_to is not None:
            raise ZMQError(Errno.EFSM, "REP must send the reply before receiving again")
        while True:
            message, pipe = self._fq.recv()
            try:
                bottom = message.index(b"")
            except ValueError:
                continue  # no delimiter: libzmq discards a malformed envelope
            body = message[bottom + 1 :]
            if not body:
                continue  # a delimiter that ends the message: libzmq rolls it back too
            self._reply_to = (pipe, message[: bottom + 1])
            return body

    def send(self, message: Message) -> None:
        """Reply through the saved envelope; silently dropped if that peer is gone or full."""
        if self._reply_to is None:
            raise ZMQError(Errno.EFSM, "REP must receive a request before replying")
        pipe, envelope = self._reply_to
        self._reply_to = None
        if pipe.attached and pipe.writable():
            pipe.write(envelope + message)

    def readable(self) -> bool:
        """Whether a request waits and no reply is owed."""
        return self._reply_to is None and self._fq.readable()

    def writable(self) -> bool:
        """Whether a reply is owed."""
        return self._reply_to is not None
