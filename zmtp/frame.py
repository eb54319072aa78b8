"""``zmtp.Frame``: a received frame with its connection's properties (pyzmq's ``zmq.Frame``).

``recv(copy=False)`` returns one, so that a program can ask who sent a message, as with
libzmq's ``zmq_msg_gets``: ``frame.get("User-Id")`` (set by ZAP), ``frame.get("Socket-Type")``,
``frame.get("Peer-Address")`` and any property the peer announced. The bytes are the very
object the socket received; ``buffer`` views them without a copy.
"""

from __future__ import annotations

from zmtp.constants import Errno, MessageOption
from zmtp.errors import ZMQError
from zmtp.metadata import Metadata

_EMPTY = Metadata()


class Frame:
    """One frame of a received message, with the properties of the connection it came over."""

    __slots__ = ("_metadata", "bytes", "more")

    def __init__(self, data: bytes = b"", *, more: bool = False, metadata: Metadata = _EMPTY):
        self.bytes = data
        self.more = more
        self._metadata = metadata

    @property
    def buffer(self) -> memoryview:
        """The frame's bytes as a memoryview (no copy)."""
        return memoryview(self.bytes)

    def get(self, option: int | str) -> int | str:
        """Return a message property by name (as str), or MORE by number, as pyzmq does.

        An unknown property is EINVAL, like libzmq's ``zmq_msg_gets``.
        """
        if isinstance(option, str):
            try:
                return self._metadata[option].decode("utf-8", "surrogateescape")
            except KeyError:
                raise ZMQError(Errno.EINVAL, f"the message has no property {option!r}") from None
        if option == MessageOption.MORE:
            return int(self.more)
        raise ZMQError(Errno.EINVAL, f"frame option {option!r} is not supported")

    def __bytes__(self) -> bytes:
        return self.bytes

    def __len__(self) -> int:
        return len(self.bytes)

    def __repr__(self) -> str:
        shown = self.bytes if len(self.bytes) <= 32 else self.bytes[:32] + b"..."
        return f"<zmtp.Frame({shown!r})>"
