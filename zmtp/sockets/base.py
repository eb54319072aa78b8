"""What every socket type shares: its pipes, its options, and the default refusals.

A socket core is sans-IO: the front end calls :meth:`SocketCore.send` and
:meth:`SocketCore.recv` with whole multipart messages, which return at once or raise
:class:`~zmtp.errors.Again` when libzmq would block; the driver attaches and detaches pipes
as peers come and go. Neither side knows how the other waits.
"""

from __future__ import annotations

from typing import ClassVar, TypeAlias

from zmtp.constants import Errno, SocketOption, SocketType
from zmtp.errors import ZMQError
from zmtp.mechanisms.selection import SECURITY_OPTIONS, select_mechanism
from zmtp.options import OptionValue
from zmtp.pipe import Message, Pipe
from zmtp.sockets.strategies import FairQueue

Options: TypeAlias = dict[SocketOption, OptionValue]
"""A socket's option values, validated by :func:`zmtp.options.validate`."""


class SocketCore:
    """Socket-type semantics over a set of pipes. Subclasses override what their type does."""

    socket_type: ClassVar[SocketType]
    receives: ClassVar[bool] = True
    """Whether messages from peers are kept; PUB and PUSH discard what peers send them."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.pipes: list[Pipe] = []
        # libzmq's options.as_server: which end of PLAIN/CURVE this socket plays. The
        # security options set it and MECHANISM together (see select_mechanism).
        self.as_server = False

    def option(self, option: SocketOption) -> int:
        """Return an integer option's current value."""
        value = self.options[option]
        assert isinstance(value, int)
        return value

    def new_pipe(self) -> Pipe:
        """Create a pipe with this socket's current high-water marks."""
        return Pipe(
            self.option(SocketOption.SNDHWM),
            self.option(SocketOption.RCVHWM),
            conflate=bool(self.options.get(SocketOption.CONFLATE, 0)),
        )

    def attach(self, pipe: Pipe) -> bool:
        """Take a new peer; return False if this socket type refuses it (PAIR's second)."""
        self.pipes.append(pipe)
        pipe.attached = True
        self._attached(pipe)
        return True

    def detach(self, pipe: Pipe) -> None:
        """Forget a peer that went away, with whatever it had queued."""
        if pipe in self.pipes:
            self.pipes.remove(pipe)
            pipe.attached = False
            self._detached(pipe)

    def send(self, message: Message) -> None:
        """Queue a whole message by this type's rules, or raise (Again when it would block)."""
        raise ZMQError(Errno.ENOTSUP, f"{self.socket_type.name} sockets cannot send")

    def recv(self) -> Message:
        """Return the next whole message by this type's rules, or raise Again if none."""
        raise ZMQError(Errno.ENOTSUP, f"{self.socket_type.name} sockets cannot receive")

    def last_source(self) -> Pipe | None:
        """Return the pipe the last message from recv() came from (its properties: msg_gets).

        Every receiving type keeps its fair queue in ``_fq``; sending-only types have none.
        """
        queue = getattr(self, "_fq", None)
        return queue.last if isinstance(queue, FairQueue) else None

    def readable(self) -> bool:
        """POLLIN: whether recv() would return a message now."""
        return False

    def writable(self) -> bool:
        """POLLOUT: whether send() would accept a message now."""
        return False

    def subscription(self, pipe: Pipe, topic: bytes, subscribe: bool) -> None:
        """Apply a peer's subscribe or cancel; only the PUB family cares."""

    def reconnected(self, pipe: Pipe) -> None:
        """Bring a new connection behind an existing pipe up to date; SUB/XSUB resubscribe."""

    def set_option(self, option: SocketOption, value: OptionValue) -> None:
        """Store an already validated option value; actions (SUBSCRIBE...) override this."""
        self.options[option] = value
        if option in SECURITY_OPTIONS:
            self.as_server = select_mechanism(self.options, self.as_server, option, value)

    def _attached(self, pipe: Pipe) -> None:
        """Set up per-type state for a new pipe."""

    def _detached(self, pipe: Pipe) -> None:
        """Drop per-type state of a pipe that went away."""
