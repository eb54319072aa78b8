"""ZMTP 3.x framing (RFC 23, 'Framing'): encoding, and an incremental decoder.

A frame is ``flags size body``. ``flags`` bit 0 is MORE, bit 1 LONG (an 8-octet size follows
instead of one octet), bit 2 COMMAND; bits 3-7 are reserved and must be zero. A message is one
or more frames, all but the last with MORE set; a command is a single frame with COMMAND set.

The decoder is the hottest code in the package, so it is written for CPython's benefit: it works
on whole ``bytes`` chunks, walks them with an integer offset, slices each body out exactly once,
and hands out plain lists (a message is ``list[bytes]``) rather than one object per frame. A body
that straddles chunks is gathered as a list of pieces and joined once when complete, so a large
frame is copied once however it is chunked, and no buffer is ever sized from a length that a
peer merely announced.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from zmtp.errors import MalformedFrame, MessageTooLarge

MORE = 0x01
LONG = 0x02
COMMAND = 0x04
RESERVED = 0xF8
_NEEDS_CHECK = RESERVED | COMMAND

MAX_SHORT_SIZE = 255
MAX_LONG_SIZE = 2**63 - 1

Buffer: TypeAlias = bytes | bytearray | memoryview
Message: TypeAlias = list[bytes]
"""A decoded multipart message: its frames in order."""

DecodedItem: TypeAlias = Message | bytes
"""What the decoder yields: a complete message (a list), or a command frame's body (bytes)."""

_LONG_HEADER = struct.Struct(">BQ")
_LONG_SIZE = struct.Struct(">Q")

# Every short header the encoder can emit, prebuilt: indexing a tuple is far cheaper than
# packing two bytes per frame.
_SHORT_FINAL = tuple(bytes((0, n)) for n in range(256))
_SHORT_MORE = tuple(bytes((MORE, n)) for n in range(256))

_RULE_FLAGS = "RFC 23: flag bits 3-7 are reserved and SHALL be zero"
_RULE_COMMAND_MORE = "RFC 23: a command is a single frame, its MORE flag SHALL be zero"
_RULE_SIZE = "RFC 23: a long frame size is a 63-bit unsigned integer"


def frame_header(size: int, flags: int) -> bytes:
    """Return the canonical header for a body of ``size`` bytes (LONG only above 255)."""
    if size <= MAX_SHORT_SIZE:
        return bytes((flags, size))
    return _LONG_HEADER.pack(flags | LONG, size)


def encode_frame(body: Buffer, *, more: bool = False, command: bool = False) -> bytes:
    """Encode one frame; a convenience for tests and tools, not for the data path."""
    flags = (MORE if more else 0) | (COMMAND if command else 0)
    return frame_header(len(body), flags) + body


def encode_command(body: Buffer) -> bytes:
    """Encode a command frame around an already encoded command body."""
    return frame_header(len(body), COMMAND) + body


def encode_message(frames: Sequence[Buffer], out: list[Buffer]) -> None:
    """Append the wire form of a multipart message to ``out``, header and body alternately.

    Bodies are appended as given (no copy), so a caller that writes ``out`` with
    ``socket.sendmsg`` or ``writelines`` sends large payloads without copying them.
    """
    last = len(frames) - 1
    if last < 0:
        raise ValueError("a ZMTP message has at least one frame")
    for index, body in enumerate(frames):
        size = len(body)
        if size <= MAX_SHORT_SIZE:
            out.append(_SHORT_MORE[size] if index < last else _SHORT_FINAL[size])
        else:
            out.append(_LONG_HEADER.pack(LONG | MORE if index < last else LONG, size))
        out.append(body)


COPY_BELOW = 16 * 1024
"""Bodies shorter than this are copied into a shared buffer by :func:`encode_messages`."""


def encode_messages(messages: Iterable[Sequence[Buffer]], out: list[Buffer]) -> None:
    """Append the wire form of many messages to ``out``, as few buffers as it takes.

    The sender's loop: small single-frame messages (the common case, and the one whose cost is
    all per-message overhead) are written into one bytearray; a large body is still appended
    as its own buffer, uncopied, and multipart messages go through :func:`encode_message`.
    Equal, byte for byte, to encoding each message on its own.
    """
    chunk = bytearray()
    short_final = _SHORT_FINAL
    for frames in messages:
        if len(frames) == 1:
            body = frames[0]
            size = len(body)
            if size <= MAX_SHORT_SIZE:
                chunk += short_final[size]
                chunk += body
                continue
            if size < COPY_BELOW:
                chunk += _LONG_HEADER.pack(LONG, size)
                chunk += body
                continue
        elif (
            len(frames) == 2
            and len(frames[0]) <= MAX_SHORT_SIZE
            and len(frames[1]) <= MAX_SHORT_SIZE
        ):
            # Two short frames: an envelope and its body (REQ, REP, DEALER, ROUTER replies).
            head, body = frames
            chunk += _SHORT_MORE[len(head)]
            chunk += head
            chunk += short_final[len(body)]
            chunk += body
            continue
        if chunk:
            out.append(chunk)
            chunk = bytearray()
        encode_message(frames, out)
    if chunk:
        out.append(chunk)


class FrameDecoder:
    """Turn a byte stream, in chunks of any size, into messages and command bodies.

    ``max_frame_size`` mirrors libzmq's MAXMSGSIZE, which is checked per frame (commands
    included) as soon as a header announces the size, before a byte of the body is kept.
    A negative value means no limit. Any framing violation raises a :class:`ProtocolError`
    subclass; the decoder must not be fed again afterwards.
    """

    __slots__ = ("_body_flags", "_body_missing", "_max", "_message", "_pending", "commands")

    def __init__(self, max_frame_size: int = -1) -> None:
        self._max = max_frame_size
        # Bytes of an incomplete frame: the partial header, or (when _body_missing > 0) the
        # pieces of a body whose header has been parsed.
        self._pending: list[Buffer] = []
        self._body_missing = 0
        self._body_flags = 0
        # Frames of the message in progress: every frame so far had MORE set.
        self._message: Message = []
        # How many command frames have been decoded so far: lets a caller see in O(1) whether
        # a batch it just decoded holds nothing but messages.
        self.commands = 0

    @property
    def body_missing(self) -> int:
        """How many bytes of a frame body that straddles chunks are still to come (else 0).

        A driver can size its next read to this, so that a large body arrives in a few big
        reads instead of many small ones.
        """
        return self._body_missing

    @property
    def in_message(self) -> bool:
        """Whether a multipart message has started but not finished."""
        return bool(self._message)

    def feed(self, data: Buffer, out: list[DecodedItem]) -> None:
        """Decode ``data`` and append every complete message and command to ``out``."""
        if type(data) is not bytes:
            # Kept past this call: copy anything the caller may reuse (recv_into buffers).
            data = bytes(data)
        if self._body_missing:
            pos = self._continue_body(data, out)
            if pos == len(data):
                return
        elif self._pending:
            self._pending.append(data)
            data = b"".join(self._pending)
            self._pending.clear()
            pos = 0
        else:
            pos = 0
        self._decode(data, pos, out)

    def _continue_body(self, data: bytes, out: list[DecodedItem]) -> int:
        """Add ``data`` to a straddling body; return where in ``data`` the body ends."""
        missing = self._body_missing
        size = len(data)
        if size < missing:
            self._pending.append(data)
            self._body_missing = missing - size
            return size
        pieces = self._pending
        pieces.append(memoryview(data)[:missing] if size > missing else data)
        body = b"".join(pieces)
        pieces.clear()
        self._body_missing = 0
        self._deliver(self._body_flags, body, out)
        return missing

    def _deliver(self, flags: int, body: bytes, out: list[DecodedItem]) -> None:
        if flags & COMMAND:
            out.append(body)
            self.commands += 1
        elif flags & MORE:
            self._message.append(body)
        else:
            message = self._message
            message.append(body)
            out.append(message)
            self._message = []

    def _decode(self, data: bytes, pos: int, out: list[DecodedItem]) -> None:
        # Names used per frame are bound to locals: this loop runs once per frame.
        end = len(data)
        message = self._message
        append = out.append
        unpack_size = _LONG_SIZE.unpack_from
        limit = self._max if self._max >= 0 else MAX_LONG_SIZE
        while pos < end:
            flags = data[pos]
            if flags & LONG:
                if pos + 9 > end:
                    break
                (size,) = unpack_size(data, pos + 1)
                start = pos + 9
            else:
                start = pos + 2
                if start > end:
                    break
                size = data[pos + 1]
            if flags & _NEEDS_CHECK or size > limit:
                self._check(flags, size)
            stop = start + size
            if stop > end:
                # The body straddles chunks: keep its pieces until it is complete.
                self._message = message
                self._body_flags = flags
                self._body_missing = stop - end
                self._pending.append(memoryview(data)[start:])
                return
            pos = stop
            if not flags and not message:
                append([data[start:stop]])  # the common case: a single-frame message
            elif flags & COMMAND:
                append(data[start:stop])
                self.commands += 1
            elif flags & MORE:
                message.append(data[start:stop])
            else:
                message.append(data[start:stop])
                append(message)
                message = []
        self._message = message
        if pos < end:
            self._pending.append(data[pos:])

    def _check(self, flags: int, size: int) -> None:
        """Raise for whatever makes this header invalid; return if it is a valid command."""
        if flags & RESERVED:
            raise MalformedFrame(f"frame flags 0x{flags:02x} set reserved bits", rule=_RULE_FLAGS)
        if flags & COMMAND and flags & MORE:
            raise MalformedFrame("command frame has the MORE flag set", rule=_RULE_COMMAND_MORE)
        if size > MAX_LONG_SIZE:
            raise MalformedFrame(f"frame size {size} exceeds 2**63-1", rule=_RULE_SIZE)
        if 0 <= self._max < size:
            raise MessageTooLarge(
                f"peer announced a {size}-byte frame; MAXMSGSIZE is {self._max}",
                rule="libzmq: MAXMSGSIZE applies to every frame",
            )
