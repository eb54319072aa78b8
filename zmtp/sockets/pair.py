"""PAIR (RFC 31, Exclusive Pair): exactly one peer, messages both ways.

libzmq refuses a second peer while the first is attached (the new connection is closed).
"""

from __future__ import annotations

from zmtp.constants import SocketType
from zmtp.errors import Again
from zmtp.pipe import Message, Pipe
from zmtp.sockets.base import SocketCore


class Pair(SocketCore):
    """One pipe; send blocks while it is full or absent."""

    socket_type = SocketType.PAIR

    def attach(self, pipe: Pipe) -> bool:
        """Refuse any peer beyond the first."""
        if self.pipes:
            return False
        return super().attach(pipe)

    def send(self, message: Message) -> None:
        """Queue on the one peer; Again when there is none or its queue is full."""
        if not self.pipes or not self.pipes[0].writable():
            raise Again()
        self.pipes[0].write(message)

    def recv(self) -> Message:
        """Take the peer's next message."""
        if not self.pipes or not self.pipes[0].inbound:
            raise Again()
        return self.pipes[0].read()

    def readable(self) -> bool:
        """Whether the peer has a message waiting."""
        return bool(self.pipes) and bool(self.pipes[0].inbound)

    def writable(self) -> bool:
        """Whether there is a peer with room."""
        return bool(self.pipes) and self.pipes[0].writable()
