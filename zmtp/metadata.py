"""ZMTP metadata: the property list carried by READY and INITIATE (RFC 23, 'Metadata').

``property = name-size name value-size value``, where ``name-size`` is one octet (1..255),
``value-size`` four octets in network order, and names use ``ALPHA / DIGIT / "-" / "_" / "." /
"+"``. Names are case-insensitive (RFC 23); libzmq compares them case-sensitively, so we *send*
the canonical casing (``Socket-Type``, ``Identity``) and *look up* case-insensitively.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator, Mapping

from zmtp.errors import InvalidMetadata

_NAME = re.compile(rb"[A-Za-z0-9\-_.+]{1,255}\Z")
_VALUE_SIZE = struct.Struct(">I")
_MAX_VALUE_SIZE = 2**31 - 1
_RULE = "RFC 23, metadata property grammar"


class Metadata(Mapping[str, bytes]):
    """An ordered, case-insensitive, read-only mapping of property names to byte values.

    The original casing of each name is kept for encoding and for ``iter()``; ``m["socket-type"]``
    and ``m["Socket-Type"]`` find the same property. A name given twice keeps its last value, as
    libzmq does.
    """

    __slots__ = ("_items", "_keys")

    def __init__(self, items: Mapping[str, bytes] | Iterable[tuple[str, bytes]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, bytes]] = {}
        for name, value in pairs:
            self._items[name.lower()] = (name, bytes(value))

    def __getitem__(self, name: str) -> bytes:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Metadata({dict(self.items())!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Metadata):
            return {k: v for k, (_, v) in self._items.items()} == {
                k: v for k, (_, v) in other._items.items()
            }
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking mapping: keep unhashable

    def encode(self) -> bytes:
        """Encode as a ZMTP property list, validating names and value sizes."""
        parts: list[bytes] = []
        for name, value in self._items.values():
            raw = name.encode("ascii", "replace")
            if not _NAME.match(raw):
                raise ValueError(f"invalid metadata property name {name!r} ({_RULE})")
            if len(value) > _MAX_VALUE_SIZE:
                raise ValueError(f"metadata value of {name!r} is longer than 2**31-1 bytes")
            parts += (bytes((len(raw),)), raw, _VALUE_SIZE.pack(len(value)), value)
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes | memoryview) -> Metadata:
        """Parse a property list; any byte that is not part of a whole property is an error."""
        view = memoryview(data)
        end = len(view)
        pos = 0
        items: list[tuple[str, bytes]] = []
        while pos < end:
            name_size = view[pos]
            pos += 1
            if name_size == 0:
                raise InvalidMetadata("metadata property with an empty name", rule=_RULE)
            if pos + name_size + 4 > end:
                raise InvalidMetadata("metadata property truncated inside its name", rule=_RULE)
            raw = bytes(view[pos : pos + name_size])
            if not _NAME.match(raw):
                raise InvalidMetadata(
                    f"metadata property name {raw!r} has bad characters", rule=_RULE
                )
            pos += name_size
            (value_size,) = _VALUE_SIZE.unpack_from(view, pos)
            pos += 4
            if value_size > _MAX_VALUE_SIZE:
                raise InvalidMetadata(
                    f"metadata value of {raw!r} exceeds 2**31-1 bytes", rule=_RULE
                )
            if pos + value_size > end:
                raise InvalidMetadata(f"metadata value of {raw!r} is truncated", rule=_RULE)
            items.append((raw.decode("ascii"), bytes(view[pos : pos + value_size])))
            pos += value_size
        return cls(items)
