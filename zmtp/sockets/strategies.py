"""The three ways a socket spreads messages over its pipes (RFC 28-31, libzmq lb/fq/dist).

* :class:`LoadBalancer`: each message goes to the next pipe, in turn, that has room under its
  SNDHWM (round-robin); a full pipe is skipped; no pipe with room means "would block".
* :class:`FairQueue`: messages are taken from pipes in turn, one whole message per pipe, so a
  chatty peer cannot starve a quiet one.
* fan-out ("dist") is simple enough to live in the PUB family itself.
"""

from __future__ import annotations

from zmtp.errors import Again
from zmtp.pipe import Message, Pipe


class _Rotation:
    """Pipes taken in turn: the list and where the next turn starts."""

    __slots__ = ("_next", "pipes")

    def __init__(self) -> None:
        self.pipes: list[Pipe] = []
        self._next = 0

    def add(self, pipe: Pipe) -> None:
        """Add a pipe at the end of the rotation."""
        self.pipes.append(pipe)

    def _drop(self, pipe: Pipe) -> None:
        """Take a pipe out; the rotation continues with the pipe after it."""
        index = self.pipes.index(pipe)
        del self.pipes[index]
        if index < self._next:
            self._next -= 1
        if self._next >= len(self.pipes):
            self._next = 0


class LoadBalancer(_Rotation):
    """Round-robin over pipes that are writable."""

    __slots__ = ()

    def remove(self, pipe: Pipe) -> None:
        """Stop sending to a pipe."""
        self._drop(pipe)

    def send(self, message: Message) -> Pipe:
        """Queue ``message`` on the next writable pipe and return it; raise Again if none."""
        pipes = self.pipes
        count = len(pipes)
        if count == 1:  # the common case, without the rotation arithmetic
            pipe = pipes[0]
            if pipe.writable():
                pipe.write(message)
                return pipe
            raise Again()
        start = self._next
        for offset in range(count):
            index = (start + offset) % count
            pipe = pipes[index]
            if pipe.writable():
                pipe.write(message)
                self._next = (index + 1) % count
                return pipe
        raise Again()

    def writable(self) -> bool:
        """Whether some pipe has room for a message."""
        return any(pipe.writable() for pipe in self.pipes)


class FairQueue(_Rotation):
    """Take whole messages from the pipes in turn."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        super().__init__()
        # The pipe the last message came from: its peer's properties describe the message.
        self.last: Pipe | None = None

    def remove(self, pipe: Pipe) -> None:
        """Remove a pipe once it is drained.

        libzmq delivers every message that arrived before a peer left, so a detached pipe
        with unread messages stays in the rotation until they have been read.
        """
        if not pipe.inbound:
            self._drop(pipe)

    def recv(self) -> tuple[Message, Pipe]:
        """Return the next message and the pipe it came from; raise Again if none waits."""
        pipe = self._next_pipe()
        return self._take(pipe), pipe

    def recv_message(self) -> Message:
        """Return the next message (for types that do not care which peer sent it)."""
        return self._take(self._next_pipe())

    def _take(self, pipe: Pipe) -> Message:
        self.last = pipe
        message = pipe.read()
        if not pipe.attached and not pipe.inbound:
            self._drop(pipe)
        return message

    def _next_pipe(self) -> Pipe:
        """Pick the pipe whose turn it is among those with a message; raise Again if none."""
        pipes = self.pipes
        count = len(pipes)
        if count == 1:  # the common case, without the rotation arithmetic
            pipe = pipes[0]
            if pipe.inbound:
                return pipe
            raise Again()
        start = self._next
        for offset in range(count):
            index = (start + offset) % count
            pipe = pipes[index]
            if pipe.inbound:
                self._next = (index + 1) % count
                return pipe
        raise Again()

    def readable(self) -> bool:
        """Whether some pipe has a message waiting."""
        # A loop, not any() over a generator: REQ asks this before every request it sends.
        for pipe in self.pipes:  # noqa: SIM110
            if pipe.inbound:
                return True
        return False
