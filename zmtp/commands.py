"""ZMTP commands: READY, ERROR (RFC 23), PING, PONG, SUBSCRIBE, CANCEL (RFC 37).

A command body is ``name-size name data``: one octet giving the name's length, the name, and
the command's data. Each command here is a frozen value with ``encode()`` (the body, without the
frame header; :func:`zmtp.frames.encode_command` adds that) and is produced from a body by
:func:`parse_command`. Commands of the security mechanisms (HELLO, WELCOME, INITIATE, ...) are
parsed by their mechanism; to this module they are :class:`UnknownCommand`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from zmtp.errors import (
    ZMTP_MALFORMED_COMMAND_ERROR,
    ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
    MalformedCommand,
)
from zmtp.metadata import Metadata

_TTL = struct.Struct(">H")

MAX_PING_CONTEXT = 16
"""RFC 37: a PING context is at most 16 octets; libzmq echoes only that many."""

MAX_PING_TTL = 0xFFFF
"""PING TTL is a 16-bit count of deciseconds (at most 6553.5 s)."""


def split_command(body: bytes) -> tuple[bytes, bytes]:
    """Split a command body into its name and its data, checking the name's length octet."""
    if not body:
        raise MalformedCommand("empty command frame", rule="RFC 23: command = name-size name data")
    name_size = body[0]
    if name_size == 0 or name_size > len(body) - 1:
        raise MalformedCommand(
            f"command name length {name_size} does not fit in a {len(body)}-byte body",
            rule="RFC 23: command-name = OCTET 1*255command-name-char",
        )
    return body[1 : 1 + name_size], body[1 + name_size :]


def _body(name: bytes, data: bytes) -> bytes:
    return bytes((len(name),)) + name + data


@dataclass(frozen=True, slots=True)
class Ready:
    """READY: the last handshake command of NULL and PLAIN, carrying the sender's metadata."""

    metadata: Metadata = field(default_factory=Metadata)

    def encode(self) -> bytes:
        """Return the command body."""
        return _body(b"READY", self.metadata.encode())


@dataclass(frozen=True, slots=True)
class Error:
    """ERROR: the sender refuses the connection; ``reason`` is at most 255 octets."""

    reason: bytes = b""

    def __post_init__(self) -> None:
        if len(self.reason) > 255:
            raise ValueError("an ERROR reason is at most 255 bytes (RFC 23)")

    def encode(self) -> bytes:
        """Return the command body."""
        return _body(b"ERROR", bytes((len(self.reason),)) + self.reason)


@dataclass(frozen=True, slots=True)
class Ping:
    """PING (RFC 37): ``ttl`` in deciseconds, ``context`` echoed back in the PONG."""

    ttl: int = 0
    context: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.ttl <= MAX_PING_TTL:
            raise ValueError(f"PING TTL is 0..{MAX_PING_TTL} deciseconds, not {self.ttl}")

    def encode(self) -> bytes:
        """Return the command body."""
        return _body(b"PING", _TTL.pack(self.ttl) + self.context)


@dataclass(frozen=True, slots=True)
class Pong:
    """PONG (RFC 37): the answer to a PING, echoing its context."""

    context: bytes = b""

    def encode(self) -> bytes:
        """Return the command body."""
        return _body(b"PONG", self.context)


@dataclass(frozen=True, slots=True)
class Subscribe:
    """SUBSCRIBE (RFC 37): the sender wants messages whose first frame starts with ``topic``."""

    topic: bytes = b""

    def encode(self) -> bytes:
        """Return the command body."""
        return _body(b"SUBSCRIBE", self.topic)


@dataclass(frozen=True, slots=True)
class Cancel:
    """CANCEL (RFC 37): undo one earlier SUBSCRIBE to ``topic``."""

    topic: bytes = b""

    def encode(self) -> bytes:
        """Return the command body."""
        return _body(b"CANCEL", self.topic)


@dataclass(frozen=True, slots=True)
class UnknownCommand:
    """Any other command; libzmq ignores unknown commands after the handshake, and so do we."""

    name: bytes
    data: bytes = b""

    def encode(self) -> bytes:
        """Return the command body."""
        return _body(self.name, self.data)


Command: TypeAlias = Ready | Error | Ping | Pong | Subscribe | Cancel | UnknownCommand


def _parse_error(data: bytes) -> Error:
    if not data or data[0] > len(data) - 1:
        raise MalformedCommand(
            "ERROR reason is shorter than its length octet says",
            rule='RFC 23: error = command-size %d5 "ERROR" error-reason',
            code=ZMTP_MALFORMED_COMMAND_ERROR,
        )
    return Error(data[1 : 1 + data[0]])


def _parse_ping(data: bytes) -> Ping:
    if len(data) < 2:
        raise MalformedCommand(
            "PING is shorter than its 2-octet TTL",
            rule='RFC 37: ping = command-size %d4 "PING" ping-ttl ping-context',
            code=ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        )
    (ttl,) = _TTL.unpack_from(data)
    return Ping(ttl, data[2:])


def _parse_ready(data: bytes) -> Ready:
    return Ready(Metadata.decode(data))


_PARSERS: dict[bytes, Callable[[bytes], Command]] = {
    b"READY": _parse_ready,
    b"ERROR": _parse_error,
    b"PING": _parse_ping,
    b"PONG": Pong,
    b"SUBSCRIBE": Subscribe,
    b"CANCEL": Cancel,
}


def parse_command(body: bytes) -> Command:
    """Parse a command frame's body; unknown names become :class:`UnknownCommand`."""
    name, data = split_command(body)
    parser = _PARSERS.get(name)
    if parser is None:
        return UnknownCommand(name, data)
    return parser(data)
