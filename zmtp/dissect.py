"""A ZMTP 3.x stream dissector: one direction's bytes in, readable records out.

Unlike :class:`~zmtp.connection.Connection`, the dissector takes no part in the conversation
and never closes: it describes what it sees, so it can watch a capture, a proxy, or a peer
that misbehaves. It is sans-IO like the rest of the core; feed it chunks of any size.
"""

from __future__ import annotations

from zmtp.commands import Ping, Ready, UnknownCommand, parse_command
from zmtp.errors import ZMTPError
from zmtp.frames import Buffer, DecodedItem, FrameDecoder
from zmtp.greeting import GREETING_SIZE, SIGNATURE_SIZE, Greeting, check_major, check_signature

_PREVIEW = 24


def _preview(frame: bytes) -> str:
    shown = repr(frame[:_PREVIEW])
    return f"{shown}…({len(frame)} B)" if len(frame) > _PREVIEW else shown


def describe_command(body: bytes) -> str:
    """Describe one command body, e.g. ``READY Socket-Type=DEALER Identity=b''``."""
    command = parse_command(body)
    if isinstance(command, Ready):
        properties = " ".join(f"{k}={v!r}" for k, v in command.metadata.items())
        return f"READY {properties}".rstrip()
    if isinstance(command, Ping):
        return f"PING ttl={command.ttl / 10:g}s context={command.context!r}"
    if isinstance(command, UnknownCommand):
        return f"command {command.name!r} ({len(command.data)} B of data)"
    fields = ", ".join(f"{name}={getattr(command, name)!r}" for name in command.__slots__)
    return f"{type(command).__name__.upper()} {fields}".rstrip()


class Dissector:
    """Describe one direction of a ZMTP 3.x connection, greeting first."""

    def __init__(self) -> None:
        self._greeting = bytearray()
        self._decoder: FrameDecoder | None = None
        self._failed = False

    def feed(self, data: Buffer) -> list[str]:
        """Consume ``data``; return one line per greeting part, command or message seen."""
        if self._failed:
            return []
        lines: list[str] = []
        data = bytes(data)
        try:
            if self._decoder is None:
                data = self._feed_greeting(data, lines)
                if self._decoder is None or not data:
                    return lines
            items: list[DecodedItem] = []
            self._decoder.feed(data, items)
        except ZMTPError as exc:
            self._failed = True
            lines.append(f"protocol error: {exc}")
            return lines
        for item in items:
            if isinstance(item, list):
                lines.append("message [" + ", ".join(_preview(frame) for frame in item) + "]")
            else:
                try:
                    lines.append(describe_command(item))
                except ZMTPError as exc:
                    lines.append(f"malformed command {_preview(item)}: {exc}")
        return lines

    def _feed_greeting(self, data: bytes, lines: list[str]) -> bytes:
        before = len(self._greeting)
        take = GREETING_SIZE - before
        self._greeting += data[:take]
        after = len(self._greeting)
        if before < SIGNATURE_SIZE <= after:
            signature = bytes(self._greeting[:SIGNATURE_SIZE])
            check_signature(signature)
            lines.append(f"greeting signature {signature.hex(' ')}")
        if before <= SIGNATURE_SIZE < after:
            check_major(self._greeting[SIGNATURE_SIZE])
            lines.append(f"greeting version major {self._greeting[SIGNATURE_SIZE]}")
        if after == GREETING_SIZE:
            greeting = Greeting.decode(bytes(self._greeting))
            mechanism = greeting.mechanism.decode("ascii", "replace")
            lines.append(
                f"greeting rest: minor {greeting.minor}, mechanism {mechanism}, "
                f"as-server {int(greeting.as_server)}"
            )
            self._decoder = FrameDecoder()
        return data[take:]
