r"""The PLAIN security mechanism (RFC 24): a user name and password in clear, checked by ZAP.

    C: HELLO(username, password)   S: WELCOME | ERROR
    C: INITIATE(metadata)          S: READY(metadata) | ERROR

The server asks ZAP about the HELLO before it answers, as libzmq does (so the handler never
sees the client's INITIATE metadata). libzmq's choices are kept where they decide the wire:

- The greeting's as-server octet stays 0 on both sides (RFC 23 wants 1 from the server;
  libzmq 4.3.5 always sends 0 and never reads it).
- A PLAIN server with no ZAP handler closes the connection after HELLO: PLAIN without a
  handler would accept every password, so it accepts none. Monitors see
  HANDSHAKE_FAILED_NO_DETAIL with EFAULT, as libzmq reports it.
- ZAP 400/500 send ERROR with the status code as reason; 300 sends nothing and leaves the
  handshake to HANDSHAKE_IVL.
- libzmq 4.3's PLAIN server writes its ERROR as ``5E "RROR" ...`` (the C literal ``"\x05ERROR"``
  is one byte 0x5E followed by ``RROR``). The client here reads that form as the ERROR it is,
  and sends the RFC's form itself.
"""

from __future__ import annotations

from zmtp.commands import Error, Ready, parse_command, split_command
from zmtp.errors import (
    ZMTP_MALFORMED_COMMAND_HELLO,
    MalformedCommand,
    PeerRefused,
    UnexpectedCommand,
    ZapUnavailable,
)
from zmtp.mechanisms.base import Mechanism, ZapContext
from zmtp.metadata import Metadata
from zmtp.zap import ZAP_ENDPOINT, ZapReply, ZapRequest

_RULE = "RFC 24: C:hello S:welcome C:initiate S:ready (or S:error)"
_HELLO = b"\x05HELLO"
_WELCOME = b"\x07WELCOME"
_INITIATE = b"\x08INITIATE"
# libzmq 4.3's misencoded ERROR: name length 0x5E, then "RROR", then the reason.
_LIBZMQ_ERROR = b"\x5eRROR"


def _refusal(body: bytes) -> PeerRefused | None:
    """Return the peer's ERROR as an exception if ``body`` is one (either encoding)."""
    if body.startswith(_LIBZMQ_ERROR):
        data = body[len(_LIBZMQ_ERROR) :]
        return PeerRefused(data[1 : 1 + data[0]] if data else b"")
    command = parse_command(body)
    if isinstance(command, Error):
        return PeerRefused(command.reason)
    return None


def _unexpected(body: bytes, expected: str) -> UnexpectedCommand:
    name = split_command(body)[0]
    return UnexpectedCommand(f"peer sent {name!r} where PLAIN expects {expected}", rule=_RULE)


class PlainClient(Mechanism):
    """The PLAIN client: sends credentials, then its metadata once they are accepted."""

    name = b"PLAIN"

    def __init__(self, username: bytes, password: bytes) -> None:
        super().__init__()
        if len(username) > 255 or len(password) > 255:
            raise ValueError("PLAIN user names and passwords are at most 255 bytes (RFC 24)")
        self._username = username
        self._password = password
        self._welcomed = False

    @property
    def complete(self) -> bool:
        """Whether the server's READY has arrived."""
        return self.peer_metadata is not None

    def start(self, local_metadata: Metadata, zap: ZapContext | None) -> None:
        """Send HELLO; a client never consults ZAP."""
        self._local_metadata = local_metadata
        self.commands_to_send.append(
            _HELLO
            + bytes((len(self._username),))
            + self._username
            + bytes((len(self._password),))
            + self._password
        )

    def receive_command(self, body: bytes) -> None:
        """WELCOME (exactly), then READY; ERROR at any point ends the handshake."""
        refusal = _refusal(body)
        if refusal is not None:
            raise refusal
        if not self._welcomed:
            if body != _WELCOME:
                if body.startswith(_WELCOME):
                    raise MalformedCommand("WELCOME carries data", rule=_RULE)
                raise _unexpected(body, "WELCOME")
            self._welcomed = True
            self.commands_to_send.append(_INITIATE + self._local_metadata.encode())
            return
        command = parse_command(body)
        if not isinstance(command, Ready) or self.peer_metadata is not None:
            raise _unexpected(body, "READY")
        self.peer_metadata = command.metadata

    def receive_zap_reply(self, reply: ZapReply) -> None:
        """Refuse: a client sends no ZAP request, so it never gets a reply."""
        raise AssertionError("a PLAIN client does not consult ZAP")


class PlainServer(Mechanism):
    """The PLAIN server: ZAP judges the HELLO, the client's INITIATE is answered with READY."""

    name = b"PLAIN"

    def __init__(self) -> None:
        super().__init__()
        self._zap: ZapContext | None = None
        self._welcomed = False
        self._ready_sent = False

    @property
    def complete(self) -> bool:
        """Whether READY has been sent in answer to the client's INITIATE."""
        return self._ready_sent

    def start(self, local_metadata: Metadata, zap: ZapContext | None) -> None:
        """Wait for HELLO; ``zap`` is None when no handler is bound."""
        self._local_metadata = local_metadata
        self._zap = zap

    def receive_command(self, body: bytes) -> None:
        """HELLO, then (once ZAP said 200 and WELCOME went out) INITIATE."""
        refusal = _refusal(body)
        if refusal is not None:
            raise refusal
        if self.zap_request is None:
            self._hello(body)
            return
        if not self._welcomed or self._ready_sent or not body.startswith(_INITIATE):
            raise _unexpected(body, "INITIATE after WELCOME")
        self.peer_metadata = Metadata.decode(body[len(_INITIATE) :])
        self.commands_to_send.append(Ready(self._local_metadata).encode())
        self._ready_sent = True

    def _hello(self, body: bytes) -> None:
        if not body.startswith(_HELLO):
            raise _unexpected(body, "HELLO")
        data = body[len(_HELLO) :]
        username_end = 1 + (data[0] if data else 0)
        password_end = username_end + 1 + (data[username_end] if len(data) > username_end else 0)
        if not data or len(data) <= username_end or len(data) != password_end:
            raise MalformedCommand(
                "HELLO is not username-length username password-length password",
                rule="RFC 24: hello = command-size %d5 'HELLO' username password",
                code=ZMTP_MALFORMED_COMMAND_HELLO,
            )
        username = data[1:username_end]
        password = data[username_end + 1 : password_end]
        if self._zap is None:
            raise ZapUnavailable(
                f"a PLAIN server needs a ZAP handler at {ZAP_ENDPOINT}; none is bound"
            )
        self.zap_request = ZapRequest(
            self._zap.domain,
            self._zap.address,
            self._zap.identity,
            self.name,
            (username, password),
        )

    def _zap_accepted(self) -> None:
        """200: WELCOME; the client then sends INITIATE."""
        self.commands_to_send.append(_WELCOME)
        self._welcomed = True
