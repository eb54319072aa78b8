"""``zmtp.Frame``: a message frame, to send without a copy or as received (pyzmq's ``Frame``).

``recv(copy=False)`` returns one, so that a program can ask who sent a message, as with
libzmq's ``zmq_msg_gets``: ``frame.get("User-Id")`` (set by ZAP), ``frame["Socket-Type"]``,
``frame.get("Peer-Address")`` and any property the peer announced. Its bytes are the very object
the socket received; ``buffer`` views them without a copy.

``Frame(data, copy=..., track=...)`` makes one to send, with pyzmq's choice between copying and
sharing: below ``copy_threshold`` bytes (:data:`COPY_THRESHOLD` by default) the data is copied,
above it shared. zmtp can only share what cannot change under it, an immutable ``bytes``; any
other buffer is copied once into one. A tracked frame (``track=True``, not copied) holds a
:class:`~zmtp.tracker.TrackedBytes`, so its :attr:`tracker` says when zmtp has let go of it.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any, ClassVar

from zmtp.constants import Errno, MessageOption
from zmtp.errors import ZMQError
from zmtp.metadata import Metadata
from zmtp.tracker import FINISHED_TRACKER, MessageTracker, TrackedBytes

__all__ = ["COPY_THRESHOLD", "Frame"]

COPY_THRESHOLD = 65536
"""pyzmq's default: frames smaller than this are copied even when sent with ``copy=False``."""

_EMPTY = Metadata()
# repr() shows this many bytes of a longer frame, then its size (as pyzmq does).
_SHOWN = 12
_SHOW_ALL_UP_TO = 16


class Frame:
    """One frame of a message, with the properties of the connection it came over."""

    __slots__ = ("_buffer", "_bytes", "_data", "_metadata", "more", "tracker")

    # The name repr() shows, looked up on the exact class (``zmq.Frame`` under zmtp.compat).
    _repr_cls: ClassVar[str] = "zmtp.Frame"

    _data: builtins.bytes
    _buffer: memoryview | None
    _bytes: builtins.bytes | None
    _metadata: Metadata
    more: bool
    tracker: MessageTracker | None

    def __init__(
        self,
        data: Any = None,
        track: bool = False,
        copy: bool | None = None,
        copy_threshold: int | None = None,
        *,
        more: bool = False,
        metadata: Metadata = _EMPTY,
    ) -> None:
        if isinstance(data, str):
            raise TypeError("str cannot be a frame: encode it to bytes first")
        if isinstance(data, Frame):  # its buffer, which Python 3.11 cannot export
            data = data.bytes
        view = memoryview(b"" if data is None else data)
        if not view.c_contiguous:
            raise BufferError("a frame's data must be one contiguous buffer")
        threshold = COPY_THRESHOLD if copy_threshold is None else copy_threshold
        if copy is None:
            copy = bool(threshold) and view.nbytes < threshold
        self.tracker = FINISHED_TRACKER if track else None
        if copy:
            self._data = bytes(view)
        elif track:
            released = threading.Event()
            self._data = TrackedBytes(view, released)
            self.tracker = MessageTracker(released)
        else:
            # Shared, not copied, when it is immutable: no one can change it under zmtp.
            self._data = data if type(data) is bytes else bytes(view)
        self._buffer = None
        self._bytes = None
        self.more = more
        self._metadata = metadata

    @classmethod
    def _received(cls, data: builtins.bytes, more: bool, metadata: Metadata) -> Frame:
        """Wrap a frame the socket received: no copy, and no choice to make about one."""
        frame = cls.__new__(cls)
        frame._data = data
        frame._buffer = None
        frame._bytes = None
        frame.more = more
        frame._metadata = metadata
        frame.tracker = None
        return frame

    @property
    def bytes(self) -> builtins.bytes:
        """The frame's content as ``bytes`` (always the same object for one frame)."""
        data = self._data
        if type(data) is bytes:
            return data
        # A tracked frame's own bytes must not leak out: whoever kept them would keep the
        # frame's tracker from ever completing.
        if self._bytes is None:
            self._bytes = bytes(memoryview(data))
        return self._bytes

    @property
    def buffer(self) -> memoryview:
        """The frame's content as a memoryview (no copy; always the same view)."""
        if self._buffer is None:
            self._buffer = memoryview(self._data)
        return self._buffer

    def get(self, option: int | str | builtins.bytes) -> int | str:
        """Return a message property by name (as str), or MORE by number, as pyzmq does.

        An unknown property is EINVAL, like libzmq's ``zmq_msg_gets``.
        """
        if isinstance(option, bytes):
            option = option.decode("utf-8")
        if isinstance(option, str):
            try:
                return self._metadata[option].decode("utf-8", "surrogateescape")
            except KeyError:
                raise ZMQError(Errno.EINVAL, f"the message has no property {option!r}") from None
        if option == MessageOption.MORE:
            return int(self.more)
        raise ZMQError(Errno.EINVAL, f"frame option {option!r} is not supported")

    def __getitem__(self, key: int | str | builtins.bytes) -> int | str:
        """``frame["User-Id"]`` is ``frame.get("User-Id")``, as in pyzmq."""
        return self.get(key)

    def __copy__(self) -> Frame:
        """Return a second Frame on the same content and tracker (pyzmq's ``fast_copy``)."""
        twin = type(self)._received(self._data, False, self._metadata)
        twin._bytes = self._bytes
        twin.tracker = self.tracker
        return twin

    def __buffer__(self, flags: int, /) -> memoryview:
        """Export the content read-only: ``memoryview(frame)`` from Python 3.12 (PEP 688)."""
        return memoryview(self._data)

    def __bytes__(self) -> builtins.bytes:
        return self.bytes

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        name = type(self).__dict__.get("_repr_cls") or f"{type(self).__module__}.Frame"
        size = len(self._data)
        if size <= _SHOW_ALL_UP_TO:
            return f"<{name}({self.bytes!r})>"
        head = bytes(memoryview(self._data)[:_SHOWN])
        return f"<{name}({head!r}...{_human_size(size)})>"


def _human_size(size: int) -> str:
    """Size as pyzmq's Frame repr writes it: whole kB/MB/GB (decimal) or B."""
    for unit, scale, floor in (("GB", 10**9, 10**9), ("MB", 10**6, 2**20), ("kB", 10**3, 10**3)):
        if size >= floor:
            return f"{size // scale}{unit}"
    return f"{size}B"
