"""PUSH and PULL (RFC 30, Pipeline): round-robin out, fair-queue in."""

from __future__ import annotations

from zmtp.constants import SocketType
from zmtp.pipe import Message, Pipe
from zmtp.sockets.base import Options, SocketCore
from zmtp.sockets.strategies import FairQueue, LoadBalancer


class Push(SocketCore):
    """Send each message to the next peer with room; block when none has room."""

    socket_type = SocketType.PUSH
    receives = False

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._lb = LoadBalancer()

    def _attached(self, pipe: Pipe) -> None:
        self._lb.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        self._lb.remove(pipe)

    def send(self, message: Message) -> None:
        """Round-robin, skipping full peers."""
        self._lb.send(message)

    def writable(self) -> bool:
        """Whether some peer has room."""
        return self._lb.writable()


class Pull(SocketCore):
    """Receive from all peers in turn."""

    socket_type = SocketType.PULL

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._fq = FairQueue()

    def _attached(self, pipe: Pipe) -> None:
        self._fq.add(pipe)

    def _detached(self, pipe: Pipe) -> None:
        self._fq.remove(pipe)

    def recv(self) -> Message:
        """Fair-queue over the peers."""
        return self._fq.recv_message()

    def readable(self) -> bool:
        """Whether any peer has a message waiting."""
        return self._fq.readable()
