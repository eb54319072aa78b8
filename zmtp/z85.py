"""Z85, ZeroMQ's printable encoding for binary keys (RFC 32, https://rfc.zeromq.org/spec/32/).

Each 4 bytes, read as a big-endian 32-bit number, become 5 characters: its base-85 digits, most
significant first, spelled with an alphabet chosen to be safe inside source code, shell command
lines and configuration files (no quotes, backslash, comma or space). CURVE keys (32 bytes) are
usually written as 40 Z85 characters.

There is no padding: RFC 32 leaves framing to the caller, so input whose length is not a
multiple of 4 (to encode) or 5 (to decode) is refused rather than guessed at. The output is
byte-identical to libzmq's ``zmq_z85_encode``/``zmq_z85_decode`` and pyzmq's ``zmq.utils.z85``.
"""

from __future__ import annotations

import struct

__all__ = ["ALPHABET", "decode", "encode"]

ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
"""The 85 characters of RFC 32, in digit order: ``ALPHABET[d]`` spells the digit ``d``."""

_INVALID = 0xFF
"""Marks, in the decode table, a byte that is not a Z85 character (digits only reach 84)."""

# byte -> digit value (0..84) or _INVALID, for bytes.translate: one C-level pass maps the whole
# input to digits and leaves a marker that bytes.find can locate for the error message.
_DECODE_TABLE = bytes(ALPHABET.index(byte) if byte in ALPHABET else _INVALID for byte in range(256))

# Two-digit spellings of 0..85**2-1: encoding a word then takes three lookups instead of five
# divisions. 85**2 * 85**2 * 85 == 85**5 > 2**32, and the top pair never exceeds 6992.
_PAIR = 85 * 85
_PAIRS = tuple(bytes((ALPHABET[n // 85], ALPHABET[n % 85])) for n in range(_PAIR))
_SINGLES = tuple(bytes((char,)) for char in ALPHABET)

_MAX_WORD = 0xFFFF_FFFF


def encode(data: bytes) -> bytes:
    """Return the Z85 text (ASCII bytes) for ``data``, 5 characters for every 4 bytes.

    Raises ValueError when ``len(data)`` is not a multiple of 4: RFC 32 has no padding, and
    silently padding would produce text that does not decode back to ``data``.
    """
    size = len(data)
    if size % 4:
        raise ValueError(f"Z85 can only encode a multiple of 4 bytes, got {size} bytes")
    pairs, singles = _PAIRS, _SINGLES
    out = []
    for word in struct.unpack(f">{size // 4}I", data):
        high, low = divmod(word, _PAIR)  # high = d0*85**2 + d1*85 + d2, low = d3*85 + d4
        out.append(pairs[high // 85])
        out.append(singles[high % 85])
        out.append(pairs[low])
    return b"".join(out)


def decode(text: str | bytes) -> bytes:
    """Return the bytes spelled by the Z85 ``text``, 4 bytes for every 5 characters.

    ``text`` may be ``str`` (as keys are usually written) or ASCII bytes. Raises ValueError,
    saying where, when its length is not a multiple of 5, when a character is not in the Z85
    alphabet, or when a group of 5 spells a number above 2**32 - 1 (possible since
    85**5 > 2**32; such text never comes out of ``encode``, so it is refused, as libzmq does).
    """
    size = len(text)
    if size % 5:
        raise ValueError(f"Z85 text length must be a multiple of 5, got {size} characters")
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"invalid Z85 character {text[exc.start]!r} at position {exc.start}"
            ) from None
    else:
        raw = bytes(text)
    digits = raw.translate(_DECODE_TABLE)
    bad = digits.find(_INVALID)
    if bad != -1:
        byte = raw[bad]
        # Only bytes input can hold a non-ASCII byte here; chr() of it would show a misleading
        # Latin-1 character, so name the byte instead.
        what = f"character {chr(byte)!r}" if byte < 0x80 else f"byte 0x{byte:02x}"
        raise ValueError(f"invalid Z85 {what} at position {bad}")
    # Strided slices give the n-th digit of every group at once, so the loop is one expression.
    words = [
        (((d0 * 85 + d1) * 85 + d2) * 85 + d3) * 85 + d4
        for d0, d1, d2, d3, d4 in zip(
            digits[0::5], digits[1::5], digits[2::5], digits[3::5], digits[4::5], strict=True
        )
    ]
    if words and max(words) > _MAX_WORD:
        start = 5 * next(i for i, word in enumerate(words) if word > _MAX_WORD)
        group = raw[start : start + 5].decode("ascii")
        raise ValueError(f"Z85 group {group!r} at position {start} encodes a value above 2**32 - 1")
    return struct.pack(f">{len(words)}I", *words)
