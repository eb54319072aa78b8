"""The interface every security mechanism implements, as a sans-IO handshake machine.

A mechanism sees only command bodies: the connection frames what the mechanism queues in
``commands_to_send`` and passes it every command that arrives until ``complete`` is true. Once
the greeting exchange is done the connection calls :meth:`Mechanism.start`; from then on the
mechanism may also surface a :class:`~zmtp.zap.ZapRequest` and later receive its reply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Protocol

from zmtp.commands import Error
from zmtp.errors import AuthenticationFailed, ZMTPError
from zmtp.metadata import Metadata
from zmtp.zap import ZapReply, ZapRequest


@dataclass(frozen=True, slots=True)
class ZapContext:
    """What a ZAP request needs to know about the connection (RFC 27 request frames)."""

    domain: bytes
    address: bytes
    identity: bytes


INNER_MORE = 0x01
INNER_COMMAND = 0x02
"""Flags inside an encrypted frame: libzmq's own message flags (MORE, and COMMAND)."""


class TrafficCodec(Protocol):
    """How an encrypting mechanism carries frames after the handshake (CURVE's MESSAGE)."""

    def wrap(self, flags: int, payload: bytes) -> bytes:
        """Return the command body that carries one frame with inner ``flags``."""

    def unwrap(self, body: bytes) -> tuple[int, bytes]:
        """Return (inner flags, frame) from such a body; raise a ProtocolError if bad."""


class Mechanism(ABC):
    """One connection's security handshake. Subclasses fill ``name`` and the two hooks."""

    name: ClassVar[bytes]
    """The mechanism name sent in the greeting (``b"NULL"``, ``b"PLAIN"``, ``b"CURVE"``)."""

    def __init__(self) -> None:
        self.commands_to_send: list[bytes] = []
        self.peer_metadata: Metadata | None = None
        self.zap_request: ZapRequest | None = None
        self.zap_reply: ZapReply | None = None
        self.failure: ZMTPError | None = None
        self._local_metadata = Metadata()

    @property
    def as_server(self) -> bool:
        """The greeting's as-server octet. RFC 23: zero for NULL."""
        return False

    def traffic(self) -> TrafficCodec | None:
        """Return how frames travel after the handshake; None: in clear (NULL, PLAIN)."""
        return None

    @property
    @abstractmethod
    def complete(self) -> bool:
        """Whether the handshake is over and traffic may flow."""

    @abstractmethod
    def start(self, local_metadata: Metadata, zap: ZapContext | None) -> None:
        """Begin the handshake after the greetings; ``zap`` is set when ZAP must be consulted."""

    @abstractmethod
    def receive_command(self, body: bytes) -> None:
        """Handle one handshake command; raise a ProtocolError if the peer broke the rules."""

    def receive_zap_reply(self, reply: ZapReply) -> None:
        """Apply the handler's verdict on ``zap_request`` as libzmq does.

        200 continues the handshake (:meth:`_zap_accepted`); 400 and 500 send ERROR with the
        status code and fail; 300 sends nothing and leaves the handshake to time out.
        """
        self.zap_reply = reply
        if reply.accepted:
            self._zap_accepted()
        elif reply.status_code != b"300":
            self.commands_to_send.append(Error(reply.status_code).encode())
            self.failure = AuthenticationFailed(reply.status_code, reply.status_text)

    def _zap_accepted(self) -> None:
        """Continue after a 200 verdict; only mechanisms that ask ZAP get one."""
        raise AssertionError(f"{self.name.decode()} got a ZAP verdict it did not ask for")
