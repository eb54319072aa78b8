"""The CURVE security mechanism: ZMTP-CURVE (RFC 25) over CurveZMQ (RFC 26).

    C: HELLO(C', Box[64 zeros](C'->S))            S: WELCOME(Box[S' + cookie](S->C'))
    C: INITIATE(cookie, Box[C + vouch + metadata](C'->S'))
                                                  S: READY(Box[metadata](S'->C')) | ERROR

Long-term keys are C/c (client) and S/s (server); C'/c' and S'/s' are made per connection, so
a connection's traffic cannot be decrypted later even with the long-term secrets. The server
keeps no state for a client between WELCOME and INITIATE except in the cookie it hands out,
sealed with a key only it knows. After READY every frame travels as a MESSAGE box (see
:class:`CurveTraffic`).

Byte layouts, nonces and checks follow libzmq 4.3.5 (``curve_client.cpp``,
``curve_server.cpp``), which decides where RFC 26 is loose: HELLO's padding is 72 bytes, short
nonces start at 1 on each side and must strictly increase (HELLO=1, INITIATE=2, first MESSAGE=3
from the client; READY=1, first MESSAGE=2 from the server), the vouch's second half is not
compared, ZAP is asked after INITIATE with the client's long-term key, and a server with no ZAP
handler accepts every client key (encryption without authentication, as libzmq does).
"""

from __future__ import annotations

import os
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from zmtp import curve_crypto
from zmtp.commands import Error, parse_command, split_command
from zmtp.curve_box import BoxError
from zmtp.errors import (
    ZMTP_MALFORMED_COMMAND_HELLO,
    ZMTP_MALFORMED_COMMAND_INITIATE,
    ZMTP_MALFORMED_COMMAND_MESSAGE,
    ZMTP_MALFORMED_COMMAND_READY,
    ZMTP_MALFORMED_COMMAND_WELCOME,
    CryptographicError,
    KeyExchangeFailed,
    MalformedCommand,
    NonceReplayed,
    PeerRefused,
    UnexpectedCommand,
)
from zmtp.mechanisms.base import Mechanism, TrafficCodec, ZapContext
from zmtp.metadata import Metadata
from zmtp.zap import ZapReply, ZapRequest

_RULE = "RFC 26: C:hello S:welcome C:initiate S:ready"
_NONCE = struct.Struct(">Q")

_HELLO = b"\x05HELLO"
_WELCOME = b"\x07WELCOME"
_INITIATE = b"\x08INITIATE"
_READY = b"\x05READY"
_MESSAGE = b"\x07MESSAGE"

_HELLO_SIZE = 200
_WELCOME_SIZE = 168
_INITIATE_MIN = 257
_READY_MIN = 30
_MESSAGE_MIN = 33


def _keypair() -> tuple[bytes, bytes]:
    """Make a fresh X25519 key pair (public, secret) for one connection."""
    secret = X25519PrivateKey.generate()
    public = secret.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return public, secret.private_bytes_raw()


def _open(box: bytes, nonce: bytes, key: bytes, what: str) -> bytes:
    try:
        return curve_crypto.open_box(box, nonce, key)
    except BoxError as exc:
        raise CryptographicError(f"{what} box does not open: {exc}", rule=_RULE) from None


def _malformed(what: str, size: int, expected: str, code: int) -> MalformedCommand:
    return MalformedCommand(f"{what} is {size} bytes; {expected}", rule=_RULE, code=code)


class CurveTraffic:
    """Frames after the handshake: each one a MESSAGE box, nonces strictly increasing.

    libzmq sends every frame (and every command: PING, SUBSCRIBE...) as its own MESSAGE, with
    the frame's MORE and COMMAND flags in the first plaintext byte and no flag on the outer
    frame, and refuses a nonce that is not above the last one from the same peer.
    """

    __slots__ = ("_key", "_last_received", "_receive_prefix", "_send_prefix", "_sent")

    def __init__(
        self, key: bytes, send_prefix: bytes, receive_prefix: bytes, sent: int, received: int
    ) -> None:
        self._key = key
        self._send_prefix = send_prefix
        self._receive_prefix = receive_prefix
        self._sent = sent
        self._last_received = received

    def wrap(self, flags: int, payload: bytes) -> bytes:
        """Return the MESSAGE command body carrying one frame."""
        self._sent += 1
        short = _NONCE.pack(self._sent)
        box = curve_crypto.seal(bytes((flags,)) + payload, self._send_prefix + short, self._key)
        return _MESSAGE + short + box

    def unwrap(self, body: bytes) -> tuple[int, bytes]:
        """Return (inner flags, frame) from a MESSAGE body; raise a ProtocolError if bad."""
        if len(body) < _MESSAGE_MIN or not body.startswith(_MESSAGE):
            if body.startswith(_MESSAGE):
                raise _malformed(
                    "MESSAGE", len(body), "at least 33", ZMTP_MALFORMED_COMMAND_MESSAGE
                )
            name = split_command(body)[0]
            raise UnexpectedCommand(f"peer sent {name!r} in clear after the CURVE handshake")
        short = body[8:16]
        (counter,) = _NONCE.unpack(short)
        if counter <= self._last_received:
            raise NonceReplayed(
                f"MESSAGE nonce {counter} is not above the last one ({self._last_received}):"
                " replayed or reordered",
                rule="RFC 26: short nonces strictly increase",
            )
        plain = _open(body[16:], self._receive_prefix + short, self._key, "MESSAGE")
        self._last_received = counter
        return plain[0], plain[1:]


class _Curve(Mechanism):
    name = b"CURVE"

    def __init__(self) -> None:
        super().__init__()
        self._traffic: CurveTraffic | None = None

    def traffic(self) -> TrafficCodec | None:
        """Return the MESSAGE codec (set once the handshake is done)."""
        return self._traffic


class CurveClient(_Curve):
    """The CURVE client: knows the server's long-term public key S in advance."""

    def __init__(self, server_key: bytes, public_key: bytes, secret_key: bytes) -> None:
        super().__init__()
        for key, what in ((server_key, "server"), (public_key, "public"), (secret_key, "secret")):
            if len(key) != 32:
                raise ValueError(f"CURVE {what} key must be 32 bytes, not {len(key)}")
        self._server = server_key
        self._public = public_key
        self._secret = secret_key
        self._short_public, self._short_secret = _keypair()
        self._sent = 0
        self._received = 0
        self._key = b""  # beforenm(S', c') once WELCOME is in

    @property
    def complete(self) -> bool:
        """Whether READY arrived."""
        return self.peer_metadata is not None

    def _next_nonce(self) -> bytes:
        self._sent += 1
        return _NONCE.pack(self._sent)

    def start(self, local_metadata: Metadata, zap: ZapContext | None) -> None:
        """Send HELLO: C' and an empty box that proves we know S."""
        self._local_metadata = local_metadata
        short = self._next_nonce()
        box = curve_crypto.seal(
            bytes(64),
            b"CurveZMQHELLO---" + short,
            curve_crypto.shared_key(self._server, self._short_secret),
        )
        self.commands_to_send.append(
            _HELLO + b"\x01\x00" + bytes(72) + self._short_public + short + box
        )

    def receive_command(self, body: bytes) -> None:
        """WELCOME (answered with INITIATE), then READY; ERROR ends the handshake."""
        if body.startswith(b"\x05ERROR"):
            command = parse_command(body)
            assert isinstance(command, Error)
            raise PeerRefused(command.reason)
        if not self._key:
            self._welcome(body)
        elif body.startswith(_READY) and self.peer_metadata is None:
            self._ready(body)
        else:
            name = split_command(body)[0]
            raise UnexpectedCommand(f"peer sent {name!r} where CURVE expects READY", rule=_RULE)

    def _welcome(self, body: bytes) -> None:
        if not body.startswith(_WELCOME):
            name = split_command(body)[0]
            raise UnexpectedCommand(f"peer sent {name!r} where CURVE expects WELCOME", rule=_RULE)
        if len(body) != _WELCOME_SIZE:
            raise _malformed("WELCOME", len(body), "it must be 168", ZMTP_MALFORMED_COMMAND_WELCOME)
        plain = _open(
            body[24:],
            b"WELCOME-" + body[8:24],
            curve_crypto.shared_key(self._server, self._short_secret),
            "WELCOME",
        )
        server_short, cookie = plain[:32], plain[32:128]
        try:
            self._key = curve_crypto.shared_key(server_short, self._short_secret)
            vouch_key = curve_crypto.shared_key(server_short, self._secret)
        except BoxError as exc:
            raise CryptographicError(f"server's short-term key: {exc}", rule=_RULE) from None
        vouch_nonce = os.urandom(16)
        vouch = vouch_nonce + curve_crypto.seal(
            self._short_public + self._server, b"VOUCH---" + vouch_nonce, vouch_key
        )
        short = self._next_nonce()
        box = curve_crypto.seal(
            self._public + vouch + self._local_metadata.encode(),
            b"CurveZMQINITIATE" + short,
            self._key,
        )
        self.commands_to_send.append(_INITIATE + cookie + short + box)

    def _ready(self, body: bytes) -> None:
        if len(body) < _READY_MIN:
            raise _malformed("READY", len(body), "at least 30", ZMTP_MALFORMED_COMMAND_READY)
        short = body[6:14]
        (counter,) = _NONCE.unpack(short)
        plain = _open(body[14:], b"CurveZMQREADY---" + short, self._key, "READY")
        self.peer_metadata = Metadata.decode(plain)
        self._traffic = CurveTraffic(
            self._key, b"CurveZMQMESSAGEC", b"CurveZMQMESSAGES", self._sent, counter
        )

    def receive_zap_reply(self, reply: ZapReply) -> None:
        """Refuse: a client sends no ZAP request, so it never gets a reply."""
        raise AssertionError("a CURVE client does not consult ZAP")


class CurveServer(_Curve):
    """The CURVE server: needs only its long-term secret key s."""

    def __init__(self, secret_key: bytes) -> None:
        super().__init__()
        if len(secret_key) != 32:
            raise ValueError(f"CURVE secret key must be 32 bytes, not {len(secret_key)}")
        self._secret = secret_key
        self._zap: ZapContext | None = None
        self._client_short = b""
        self._short_public = b""
        self._short_secret = b""
        self._cookie_key = b""
        self._key = b""
        self._client_last = 0
        self._ready_sent = False
        self._initiated = False

    @property
    def complete(self) -> bool:
        """Whether READY went out."""
        return self._ready_sent

    def start(self, local_metadata: Metadata, zap: ZapContext | None) -> None:
        """Wait for HELLO; ``zap`` is None when no handler is bound (every key is accepted)."""
        self._local_metadata = local_metadata
        self._zap = zap

    def receive_command(self, body: bytes) -> None:
        """HELLO (answered with WELCOME), then INITIATE (answered with READY, after ZAP)."""
        if not self._client_short:
            self._hello(body)
        elif body.startswith(_INITIATE) and not self._initiated:
            self._initiate(body)
        else:
            name = split_command(body)[0]
            raise UnexpectedCommand(f"peer sent {name!r} where CURVE expects INITIATE", rule=_RULE)

    def _check_nonce(self, short: bytes) -> None:
        (counter,) = _NONCE.unpack(short)
        if counter <= self._client_last:
            raise NonceReplayed(
                f"client nonce {counter} is not above {self._client_last}",
                rule="RFC 26: short nonces strictly increase",
            )
        self._client_last = counter

    def _hello(self, body: bytes) -> None:
        if not body.startswith(_HELLO):
            name = split_command(body)[0]
            raise UnexpectedCommand(f"peer sent {name!r} where CURVE expects HELLO", rule=_RULE)
        if len(body) != _HELLO_SIZE:
            raise _malformed("HELLO", len(body), "it must be 200", ZMTP_MALFORMED_COMMAND_HELLO)
        if body[6:8] != b"\x01\x00":
            raise MalformedCommand(
                f"HELLO version {body[6]}.{body[7]} is not 1.0",
                rule=_RULE,
                code=ZMTP_MALFORMED_COMMAND_HELLO,
            )
        client_short = body[80:112]
        short = body[112:120]
        try:
            hello_key = curve_crypto.shared_key(client_short, self._secret)
        except BoxError as exc:
            raise CryptographicError(f"client's short-term key: {exc}", rule=_RULE) from None
        _open(body[120:200], b"CurveZMQHELLO---" + short, hello_key, "HELLO")
        self._check_nonce(short)
        self._client_short = client_short
        self._short_public, self._short_secret = _keypair()
        self._cookie_key = os.urandom(32)
        cookie_nonce = os.urandom(16)
        cookie = cookie_nonce + curve_crypto.seal(
            client_short + self._short_secret, b"COOKIE--" + cookie_nonce, self._cookie_key
        )
        welcome_nonce = os.urandom(16)
        box = curve_crypto.seal(self._short_public + cookie, b"WELCOME-" + welcome_nonce, hello_key)
        self.commands_to_send.append(_WELCOME + welcome_nonce + box)

    def _initiate(self, body: bytes) -> None:
        if len(body) < _INITIATE_MIN:
            size = len(body)
            raise _malformed("INITIATE", size, "at least 257", ZMTP_MALFORMED_COMMAND_INITIATE)
        cookie = body[9:105]
        opened = _open(cookie[16:], b"COOKIE--" + cookie[:16], self._cookie_key, "cookie")
        if opened != self._client_short + self._short_secret:
            raise CryptographicError("INITIATE carries another connection's cookie", rule=_RULE)
        short = body[105:113]
        self._key = curve_crypto.shared_key(self._client_short, self._short_secret)
        plain = _open(body[113:], b"CurveZMQINITIATE" + short, self._key, "INITIATE")
        self._check_nonce(short)
        client_key, vouch, raw_metadata = plain[:32], plain[32:128], plain[128:]
        try:
            vouch_key = curve_crypto.shared_key(client_key, self._short_secret)
        except BoxError as exc:
            raise CryptographicError(f"client's long-term key: {exc}", rule=_RULE) from None
        vouched = _open(vouch[16:], b"VOUCH---" + vouch[:16], vouch_key, "vouch")
        if vouched[:32] != self._client_short:
            raise KeyExchangeFailed("the vouch is for another short-term key", rule=_RULE)
        self._initiated = True
        self.peer_metadata = Metadata.decode(raw_metadata)
        if self._zap is None:
            self._send_ready()
            return
        self.zap_request = ZapRequest(
            self._zap.domain, self._zap.address, self._zap.identity, self.name, (client_key,)
        )

    def _send_ready(self) -> None:
        short = _NONCE.pack(1)
        metadata = self._local_metadata.encode()
        box = curve_crypto.seal(metadata, b"CurveZMQREADY---" + short, self._key)
        self.commands_to_send.append(_READY + short + box)
        self._ready_sent = True
        self._traffic = CurveTraffic(
            self._key, b"CurveZMQMESSAGES", b"CurveZMQMESSAGEC", 1, self._client_last
        )

    def _zap_accepted(self) -> None:
        """200: READY."""
        self._send_ready()
