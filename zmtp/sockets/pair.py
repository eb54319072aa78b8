"""PAIR (RFC 31, Exclusive Pair): exactly one peer, messages both ways.

libzmq refuses a second peer while the first is attached (the new connection is closed).
"""

from __future__ import annotations

from zmtp.constants import SocketType
from zmtp.errors import Again
from zmtp.pipe import Message, Pipe
from zmtp.sockets.base import Options, SocketCore
from zmtp.sockets.strategies import FairQueue


class Pair(SocketCore):
    """One pipe; send blocks while it is full or absent."""

    socket_type = SocketType.PAIR

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        # Receiving goes through a fair queue only so that what a departed peer sent is
        # still delivered (see FairQueue.remove); there is one live peer at most.
        self._fq = FairQueue()

    def attach(self, pipe: Pipe) -> bool:
        """Refuse any peer beyond the first."""
        if self.pipes:
            return False
        return super().attach(pipe)

    def _attached(self, pipe: Pipe) -> None:
        self._fq.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        self._fq.remove(pipe)

    def send(self, message: Message) -> None:
        """Queue on the one peer; Again when there is none or its queue is full."""
        if not self.pipes or not self.pipes[0].writable():
            raise Again()
        self.pipes[0].write(message)

    def recv(self) -> Message:
        """Take the peer's next message."""
        return self._fq.recv_message()

    def readable(self) -> bool:
        """Whether the peer has a message waiting."""
        return self._fq.readable()

    def writable(self) -> bool:
        """Whether there is a peer with room."""
        return bool(self.pipes) and self.pipes[0].writable()
