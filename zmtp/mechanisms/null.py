"""The NULL security mechanism (RFC 23, 'The NULL Security Mechanism').

Each side sends READY with its metadata and reads the peer's. libzmq sends its READY as soon as
the greetings are exchanged, without waiting for the peer's, and we do the same. When ZAP must be
consulted (a ZAP domain is configured), our READY is held back until the handler answers, and a
400 or 500 verdict is sent to the peer as ERROR instead; a 300 verdict sends nothing and leaves
the handshake to time out, which is what libzmq does.
"""

from __future__ import annotations

from zmtp.commands import Error, Ready, parse_command, split_command
from zmtp.errors import PeerRefused, UnexpectedCommand
from zmtp.mechanisms.base import Mechanism, ZapContext
from zmtp.metadata import Metadata
from zmtp.zap import ZapRequest

_RULE = "RFC 23: null = ready / error, each side sends one READY"


class NullMechanism(Mechanism):
    """NULL: no authentication, no encryption; optionally filtered by ZAP."""

    name = b"NULL"

    def __init__(self) -> None:
        super().__init__()
        self._ready_sent = False

    @property
    def complete(self) -> bool:
        """Whether both READY commands have been exchanged."""
        return self._ready_sent and self.peer_metadata is not None

    def start(self, local_metadata: Metadata, zap: ZapContext | None) -> None:
        """Send READY, or first ask ZAP when a domain is configured."""
        self._local_metadata = local_metadata
        if zap is None:
            self._send_ready()
        else:
            self.zap_request = ZapRequest(zap.domain, zap.address, zap.identity, self.name)

    def receive_command(self, body: bytes) -> None:
        """Accept the peer's READY, or its ERROR; anything else breaks RFC 23."""
        command = parse_command(body)
        if isinstance(command, Ready):
            if self.peer_metadata is not None:
                raise UnexpectedCommand("peer sent READY twice", rule=_RULE)
            self.peer_metadata = command.metadata
        elif isinstance(command, Error):
            raise PeerRefused(command.reason)
        else:
            name = split_command(body)[0]
            raise UnexpectedCommand(
                f"peer sent {name!r} during the NULL handshake; only READY or ERROR may come",
                rule=_RULE,
            )

    def _zap_accepted(self) -> None:
        """200: send the READY that was held back."""
        self._send_ready()

    def _send_ready(self) -> None:
        self.commands_to_send.append(Ready(self._local_metadata).encode())
        self._ready_sent = True
