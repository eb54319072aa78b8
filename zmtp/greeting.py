"""The 64-octet ZMTP 3.x greeting and the staged exchange libzmq expects (RFC 23, 'Greeting').

Layout: ``FF``, 8 octets of padding, ``7F`` (the 10-octet signature), major version, minor
version, a 20-octet NUL-padded mechanism name, the as-server octet, and 31 zero octets.

libzmq sends its greeting in three stages: the signature at once, the major version once the
peer's signature has arrived, and the rest once the peer's major version has arrived. A peer that
waits for all 64 octets before writing its own deadlocks against it, so :class:`GreetingExchange`
stages ours the same way. The padding carries ``len(routing id) + 1`` as a big-endian u64, as
libzmq fills it (a relic of ZMTP 1.0 detection that peers must ignore); we never validate the
peer's padding.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from zmtp.errors import MechanismMismatch, UnsupportedVersion

SIGNATURE_SIZE = 10
GREETING_SIZE = 64
MECHANISM_SIZE = 20

_PADDING = struct.Struct(">Q")
_MECHANISM_NAME = re.compile(rb"[A-Z0-9\-_.+]{1,20}\Z")
_RULE = "RFC 23: greeting = signature version mechanism as-server filler"


def mechanism_field(name: bytes) -> bytes:
    """Return a mechanism name as the 20-octet, NUL-padded greeting field."""
    if not _MECHANISM_NAME.match(name):
        raise ValueError(f"invalid mechanism name {name!r}: 1-20 of A-Z 0-9 - _ . +")
    return name.ljust(MECHANISM_SIZE, b"\0")


@dataclass(frozen=True, slots=True)
class Greeting:
    """One side's greeting. ``mechanism`` is the name without its NUL padding."""

    major: int = 3
    minor: int = 1
    mechanism: bytes = b"NULL"
    as_server: bool = False
    padding: int = 1

    def encode(self) -> bytes:
        """Return the 64 octets of this greeting."""
        return (
            b"\xff"
            + _PADDING.pack(self.padding)
            + b"\x7f"
            + bytes((self.major, self.minor))
            + mechanism_field(self.mechanism)
            + (b"\x01" if self.as_server else b"\x00")
            + bytes(31)
        )

    @classmethod
    def decode(cls, data: bytes) -> Greeting:
        """Parse 64 octets; the caller has already checked the signature and major version."""
        if len(data) != GREETING_SIZE:
            raise ValueError("a greeting is exactly 64 bytes")
        (padding,) = _PADDING.unpack_from(data, 1)
        return cls(
            major=data[10],
            minor=data[11],
            mechanism=data[12:32].rstrip(b"\0"),
            as_server=bool(data[32]),
            padding=padding,
        )


def check_signature(signature: bytes) -> None:
    """Refuse a peer whose first 10 octets are not a ZMTP 2.0+ signature.

    libzmq looks only at octet 0 and bit 0 of octet 9; anything else there is a ZMTP 1.0 peer
    (whose first octets are a frame length) or not ZMTP at all.
    """
    if signature[0] != 0xFF or not signature[9] & 1:
        raise UnsupportedVersion(
            f"peer greeting starts {signature.hex(' ')}, not a ZMTP signature "
            "(a ZMTP 1.0 peer, or not ZMTP at all); zmtp speaks ZMTP 3.x only",
            rule="RFC 23: signature = %xFF padding %x7F",
        )


def check_major(major: int) -> None:
    """Refuse ZMTP 1.0 (revision 0) and 2.0 (revision 1) peers.

    RFC 23 also calls revision 2 a ZMTP 2.0 peer; libzmq treats every revision other than 0
    and 1 as ZMTP 3.x, and its wire behaviour decides, so we do the same.
    """
    if major in (0, 1):
        protocol = "ZMTP 1.0" if major == 0 else "ZMTP 2.0"
        raise UnsupportedVersion(
            f"peer speaks {protocol} (version octet {major}); zmtp speaks ZMTP 3.x only",
            rule="RFC 23: version-major = %x03",
        )


class GreetingExchange:
    """Stage our greeting against the peer's, reading the peer's in chunks of any size.

    ``receive`` consumes greeting octets and returns what we must send next; once 64 peer octets
    have arrived, ``peer`` is set and any octets after the greeting are returned to the caller.
    """

    __slots__ = ("_ours", "_received", "peer")

    def __init__(self, ours: Greeting) -> None:
        self._ours = ours.encode()
        self._received = bytearray()
        self.peer: Greeting | None = None

    def start(self) -> bytes:
        """Return the signature, which is sent before anything has been received."""
        return self._ours[:SIGNATURE_SIZE]

    def receive(self, data: bytes) -> tuple[bytes, bytes]:
        """Consume ``data``; return ``(to_send, rest)``, rest being octets after the greeting."""
        before = len(self._received)
        wanted = GREETING_SIZE - before
        self._received += data[:wanted]
        rest = data[wanted:]
        after = len(self._received)
        to_send = b""
        if before < SIGNATURE_SIZE <= after:
            check_signature(bytes(self._received[:SIGNATURE_SIZE]))
            to_send += self._ours[SIGNATURE_SIZE : SIGNATURE_SIZE + 1]
        if before <= SIGNATURE_SIZE < after:
            check_major(self._received[SIGNATURE_SIZE])
            to_send += self._ours[SIGNATURE_SIZE + 1 :]
        if after == GREETING_SIZE:
            received = bytes(self._received)
            if received[12:32] != self._ours[12:32]:
                theirs = received[12:32].rstrip(b"\0")
                ours = self._ours[12:32].rstrip(b"\0")
                raise MechanismMismatch(
                    f"peer offers mechanism {theirs!r}, we use {ours!r}",
                    rule="RFC 23: both peers SHALL use the same security mechanism",
                )
            self.peer = Greeting.decode(received)
        return to_send, rest
