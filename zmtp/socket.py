"""``zmtp.Socket``: pyzmq's blocking Socket over zmtp's socket semantics and I/O thread.

The caller's thread does the socket-type work itself (routing, envelopes, queues) under the
socket's lock, and only waits when libzmq would block: on a condition that the I/O thread
signals when a pipe gains messages or room. Frames are gathered into whole messages here
(SNDMORE on send, RCVMORE on recv), so everything below sees atomic multipart messages.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import pickle
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from inspect import get_annotations
from typing import TYPE_CHECKING, Any, Protocol, cast

from zmtp import random_port
from zmtp.constants import Errno, Event, Flag, PollEvent, SocketOption, SocketType
from zmtp.engine.socket_engine import SocketEngine
from zmtp.errors import (
    Again,
    ConfigurationError,
    ContextTerminated,
    ZMQError,
)
from zmtp.frame import COPY_THRESHOLD, Frame
from zmtp.metadata import Metadata
from zmtp.monitor import encode_event
from zmtp.options import (
    HWM_OPTIONS,
    OPTIONS,
    ValueType,
    checked_setsockopt,
    option_spec,
)
from zmtp.pipe import Message
from zmtp.signal_fd import SignalFD
from zmtp.sockets import create_socket_core
from zmtp.tracker import FINISHED_TRACKER, TRACKED, MessageTracker

if TYPE_CHECKING:
    from types import TracebackType

    from zmtp.context import Context

_O = SocketOption
# Plain ints on the hot path: an IntFlag '&' costs microseconds in CPython 3.11.
_DONTWAIT = int(Flag.DONTWAIT)
_SNDMORE = int(Flag.SNDMORE)
_READ_ONLY = {
    _O.TYPE,
    _O.RCVMORE,
    _O.EVENTS,
    _O.LAST_ENDPOINT,
    _O.FD,
    _O.MECHANISM,
    _O.THREAD_SAFE,
}


class _SavableLock(Protocol):
    """The two methods of an RLock with which threading.Condition releases it fully."""

    def _release_save(self) -> object: ...

    def _acquire_restore(self, state: object, /) -> None: ...


def _class_defines(cls: type, name: str) -> bool:
    """Whether a class in ``cls``'s MRO defines or annotates ``name`` (then it is no option)."""
    return any(name in klass.__dict__ or name in get_annotations(klass) for klass in cls.__mro__)


def _endpoint(addr: str | bytes) -> str:
    """Accept an endpoint as str or bytes, as pyzmq does."""
    return addr.decode() if isinstance(addr, bytes) else addr


def _frame(data: Any) -> bytes:
    """Return ``data`` as one frame, refusing str as pyzmq does (a Frame gives its content)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, Frame):
        return data._data
    if isinstance(data, str):
        raise TypeError("str objects cannot be sent as frames: encode them, or use send_string")
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(f"a frame must be bytes-like, not {type(data).__name__}") from None


# The live tracked frames (zmtp.tracker): while there are none, which is nearly always, a
# receive needs no look at what type its frames are.
_TRACKED_REFS = TRACKED.refs


def _plain(message: Message) -> Message:
    """Return ``message`` with tracked frames (an inproc sender's) as plain bytes.

    A tracked frame stays zmtp's until it is handed out: recv() copies it, as libzmq's does
    when it returns data, so that the sender's tracker completes once zmtp lets go of it.
    """
    if _TRACKED_REFS and any(type(frame) is not bytes for frame in message):
        return [bytes(frame) for frame in message]
    return message


def _outgoing(data: Any, copy: bool, track: bool, threshold: int) -> tuple[bytes, Any]:
    """Return the frame to queue for ``send(data, copy=..., track=...)`` and what to return.

    As pyzmq: a Frame is sent as it is and gives its own tracker; ``copy=False`` copies data
    smaller than the socket's ``copy_threshold`` anyway (the tracker is then finished at
    once), and shares or tracks the rest as :class:`~zmtp.frame.Frame` does.
    """
    if isinstance(data, Frame):
        if track and data.tracker is None:
            raise ValueError("track=True needs a tracked Frame: make it with track=True")
        return data._data, data.tracker
    if copy:
        return _frame(data), None
    if isinstance(data, str):
        raise TypeError("str objects cannot be sent as frames: encode them, or use send_string")
    if threshold and memoryview(data).nbytes < threshold:
        return _frame(data), FINISHED_TRACKER
    if not track:
        return _frame(data), None
    frame = Frame(data, track=True, copy=False)
    return frame._data, frame.tracker


def _whole_message_tracker(trackers: list[Any]) -> MessageTracker | None:
    """One tracker for a multipart message: done once zmtp has let go of all of it."""
    pending = [t for t in trackers if t is not None and t is not FINISHED_TRACKER]
    if pending:
        return pending[0] if len(pending) == 1 else MessageTracker(*pending)
    return FINISHED_TRACKER if trackers and trackers[-1] is not None else None


class _Handle:
    """The zmtp socket behind a Socket and its shadows (what pyzmq's libzmq pointer is).

    pyzmq can put several Python objects on one libzmq socket (``Socket.shadow``, ``copy``,
    ``zmq.asyncio.Socket(sync_socket)``); here they share the socket core, engine, lock and
    message buffers, and this record of the state they must agree on. ``underlying`` is its
    address, which :func:`_handle_at` finds again while the socket lives.
    """

    __slots__ = (
        "__weakref__",
        "closed",
        "owner",
        "properties",
        "signal_fd",
        "terminated",
        "views",
        "waiter",
    )

    def __init__(self, owner: Socket) -> None:
        # The Socket that made the zmtp socket: the context knows that one (term, destroy).
        self.owner = weakref.ref(owner)
        self.views: weakref.WeakSet[Socket] = weakref.WeakSet([owner])
        self.closed = False
        self.terminated = False
        # The sender's properties for the frames of the message being received (Frame.get).
        self.properties = Metadata()
        # getsockopt(FD)'s descriptor, made on first use (see zmtp.signal_fd).
        self.signal_fd: SignalFD | None = None
        # The thread blocked in this socket, if any: a second thread that would block too is
        # using the socket concurrently, which libzmq forbids; it gets EFAULT, not corruption.
        self.waiter: int | None = None
        _HANDLES[id(self)] = self

    def mark(self, *, closed: bool = False, terminated: bool = False) -> None:
        """Record that the socket was closed or its context terminated, in every view.

        Called under the socket's lock (except from a collected socket's ``__del__``, when no
        other view can be in the making), as views are added under it.
        """
        self.closed |= closed
        self.terminated |= terminated
        for view in list(self.views):
            object.__setattr__(view, "_closed", self.closed)
            object.__setattr__(view, "_terminated", self.terminated)
            object.__setattr__(view, "_unusable", True)


_HANDLES: weakref.WeakValueDictionary[int, _Handle] = weakref.WeakValueDictionary()


def _handle_at(address: Any) -> _Handle:
    """Return the handle a shadow refers to: a Socket (or anything with ``underlying``)."""
    if not isinstance(address, int):
        address = getattr(address, "underlying", address)
    if not isinstance(address, int) or isinstance(address, bool):
        raise TypeError(f"shadow needs a Socket or its .underlying int, not {address!r}")
    handle = _HANDLES.get(address)
    if handle is None:
        raise ZMQError(Errno.ENOTSOCK, f"no open zmtp socket has the address {address:#x}")
    return handle


class _SocketContext:
    """What bind() and connect() return: ``with`` it to unbind or disconnect at the end."""

    def __init__(self, socket: Socket, kind: str, addr: str) -> None:
        self.socket = socket
        self.kind = kind
        self.addr = addr

    def __enter__(self) -> Socket:
        return self.socket

    def __exit__(self, *exc_info: object) -> None:
        if self.socket.closed:
            return
        if self.kind == "bind":
            self.socket.unbind(self.addr)
        else:
            self.socket.disconnect(self.addr)

    def __repr__(self) -> str:
        return f"<SocketContext({self.kind}={self.addr!r})>"


class Socket:
    """A ZeroMQ socket with pyzmq's blocking API.

    ``Socket(context, socket_type)`` makes a socket (``context.socket(type)`` is the usual
    way). ``Socket(other)``, ``Socket(shadow=other)`` and ``Socket.shadow(other.underlying)``
    make a second Python object on ``other``'s socket, as pyzmq does for a libzmq socket:
    both send and receive on it, and closing either closes it.
    """

    context: Context
    socket_type: SocketType
    copy_threshold: int
    """``send(copy=False)`` copies frames smaller than this anyway (pyzmq's attribute)."""

    # The name repr() shows, looked up on the exact class (``zmq.Socket`` under zmtp.compat).
    _repr_cls: str = "zmtp.Socket"
    # Whether this object is a second one on another's socket, and what it was made from.
    _shadow: bool
    _shadow_obj: Socket | int | None

    def __init__(
        self,
        context: Context | Socket | None = None,
        socket_type: int = -1,
        *,
        shadow: Socket | int = 0,
        copy_threshold: int | None = None,
        **options: Any,
    ) -> None:
        object.__setattr__(
            self, "copy_threshold", COPY_THRESHOLD if copy_threshold is None else copy_threshold
        )
        if isinstance(context, Socket):  # pyzmq: Socket(other) shadows other
            self._view(context)
            return
        if shadow:
            self._view(shadow)
            return
        if context is None:
            raise TypeError("a Socket needs a context (or a socket to shadow)")
        if socket_type < 0:
            raise TypeError("a Socket needs a socket_type (zmtp.REQ, zmtp.PUB, ...)")
        self._shadow = False
        self._shadow_obj = None
        core = create_socket_core(socket_type)
        self._core = core
        # Public attributes are set past __setattr__, which reads public names as options.
        object.__setattr__(self, "context", context)
        object.__setattr__(self, "socket_type", core.socket_type)
        self._lock = threading.RLock()
        self._ready = threading.Condition(self._lock)
        self._watchers: set[Callable[[], None]] = set()
        self._sending: list[bytes] = []
        # Frames of a message already taken from the socket but not yet handed out by recv();
        # RCVMORE is whether any are left. Mutated in place: assigning attributes goes
        # through this class's __setattr__, which is too slow for the per-message path.
        self._receiving: list[bytes] = []
        self._handle = _Handle(self)
        # This object's copies of the handle's closed/terminated state (shadows share it).
        self._terminated = False
        self._closed = False
        # Either of the two above: one attribute test on the per-message path.
        self._unusable = False
        # The engine holds only a weak reference to this socket, so that a socket dropped
        # without close() can be collected (and then closed) as in pyzmq.
        owner = weakref.ref(self)

        def wake() -> None:
            # Called for every batch of messages: a plain weakref is cheaper than a WeakMethod.
            sock = owner()
            if sock is not None:
                sock._notify()

        self._engine = SocketEngine(context.loop, core, self._lock, wake, context.inproc)
        context._socket_created(self)
        # A zmtp extension: ``ctx.socket(zmtp.DEALER, linger=0)`` sets options by keyword
        # (pyzmq hands such keywords to the socket class, which is this one).
        for name, value in options.items():
            setattr(self, name, value)

    def _view(self, shadow: Socket | int) -> None:
        """Become another view of the socket ``shadow`` is or names (see the class docs)."""
        handle = _handle_at(shadow)
        original = handle.owner()
        if original is None:
            raise ZMQError(Errno.ENOTSOCK, "the shadowed socket was collected, and so closed")
        self._shadow = True
        # Holds a shadowed Socket object alive while this one lives, as pyzmq does.
        self._shadow_obj = shadow
        object.__setattr__(self, "context", original.context)
        object.__setattr__(self, "socket_type", original.socket_type)
        for shared in ("_core", "_engine", "_lock", "_ready", "_watchers"):
            object.__setattr__(self, shared, getattr(original, shared))
        self._sending = original._sending
        self._receiving = original._receiving
        self._handle = handle
        with self._lock:  # as mark(), which reads the views under it
            self._closed = handle.closed
            self._terminated = handle.terminated
            self._unusable = handle.closed or handle.terminated
            handle.views.add(self)

    @property
    def underlying(self) -> int:
        """The socket's address, for ``Socket.shadow`` (pyzmq's libzmq socket pointer)."""
        return id(self._handle)

    @classmethod
    def shadow(cls, address: Socket | int) -> Socket:
        """Return a new object on the socket at ``address`` (a Socket or its ``underlying``)."""
        return cls(shadow=address)

    def __copy__(self) -> Socket:
        """Return a shadow of this socket: what copying a Socket does in pyzmq."""
        return type(self).shadow(self.underlying)

    def __deepcopy__(self, memo: dict[int, Any]) -> Socket:
        return self.__copy__()

    # -- waking and waiting -------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake threads waiting on this socket (called by the I/O thread)."""
        with self._lock:
            if self._handle.waiter is not None:
                self._ready.notify_all()
                self._engine.lending.wake()
            if not self._watchers:  # the usual case: no poller, FD or asyncio waiter
                return
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher()

    def _terminate(self) -> None:
        """Make blocking calls raise ETERM from now on: the context is ending."""
        with self._lock:
            self._handle.mark(terminated=True)
            self._ready.notify_all()
            self._engine.lending.wake()
            watchers = list(self._watchers)
        for watcher in watchers:  # pollers waiting on this socket raise ETERM too
            watcher()

    def _deadline(self, flags: int, timeout_option: SocketOption) -> float | None:
        if flags & _DONTWAIT:
            return 0.0
        timeout = self._int(timeout_option)
        return None if timeout < 0 else time.monotonic() + timeout / 1000

    def _wait(self, deadline: float | None) -> None:
        """Wait for a change; raise Again at the deadline, ETERM if the context ends."""
        self._wait_on_condition(self._wait_time(deadline))

    def _wait_on_condition(self, remaining: float | None) -> None:
        """Wait on the socket's condition (the I/O thread reads every connection meanwhile)."""
        lending = self._engine.lending
        if lending.lent:
            # Waiting on the condition: only the I/O thread reads for it.
            lending.take_back()
        handle = self._handle
        handle.waiter = threading.get_ident()
        try:
            self._ready.wait(remaining)
        finally:
            handle.waiter = None
        if self._terminated:
            raise ContextTerminated()

    def _wait_for_input(self, deadline: float | None) -> None:
        """Wait for a message to receive, reading lent connections directly if there are some.

        See zmtp.engine.lending: a thread that blocks in recv() reads the connections the I/O
        thread lent it instead of waiting for the I/O thread to wake it.
        """
        lending = self._engine.lending
        remaining = self._wait_time(deadline)
        if not lending.lent:
            # Asked only with time left to wait: a thread that is about to give up (Again)
            # would leave the connection lent to nobody.
            lending.wanted = True
            self._wait_on_condition(remaining)
            return
        # No read before waiting: poll() reports bytes already there at once, and costs less
        # than a recv() that fails with EAGAIN (the usual case right after a request).
        handle = self._handle
        handle.waiter = threading.get_ident()
        lock = cast(_SavableLock, self._lock)
        try:
            lending.wait(lock._release_save, lock._acquire_restore, remaining)
        finally:
            handle.waiter = None
        if self._terminated:
            raise ContextTerminated()

    def _wait_time(self, deadline: float | None) -> float | None:
        """Check that this thread may wait, and for how long (None: no limit)."""
        if self._terminated:
            raise ContextTerminated()
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Again()
        else:
            remaining = None
        waiter = self._handle.waiter
        if waiter is not None and waiter != threading.get_ident():
            raise ZMQError(
                Errno.EFAULT,
                "the socket is already in use by another thread (sockets are not"
                " thread-safe: use one per thread, or hand messages over inproc)",
            )
        return remaining

    def _check_open(self) -> None:
        if self._closed:
            raise ZMQError(Errno.ENOTSOCK, "the socket is closed")
        if self._terminated:
            raise ContextTerminated()

    # -- sending ------------------------------------------------------------------------------

    def send(
        self, data: Any, flags: int = 0, copy: bool = True, track: bool = False
    ) -> MessageTracker | None:
        """Send one frame; with SNDMORE, more frames of the same message follow.

        As pyzmq: ``copy=False`` (or a :class:`~zmtp.frame.Frame`) returns a
        :class:`~zmtp.tracker.MessageTracker`, whose ``done`` says when zmtp has let go of the
        frame (it is tracked only with ``track=True``; see :mod:`zmtp.tracker`).
        """
        if self._unusable:
            self._check_open()
        if copy and type(data) is bytes:
            frame: bytes = data
            tracker = None
        else:
            frame, tracker = _outgoing(data, copy, track, self.copy_threshold)
        if flags & _SNDMORE:
            self._sending.append(frame)
            return tracker
        # The gathered frames stay gathered if this raises (Again), so the caller may retry
        # the last frame, as libzmq lets it.
        sending = self._sending
        if sending:
            self._send_message([*sending, frame], flags)
            sending.clear()
            return tracker
        # The single-frame send inlines _send_message: it is the per-message path.
        message = [frame]
        with self._lock:
            try:
                self._core.send(message)
            except Again:
                if flags & _DONTWAIT:
                    raise
                self._send_waiting(message, flags)
        return tracker

    def send_multipart(
        self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> MessageTracker | None:
        """Send a whole multipart message at once.

        With ``copy=False`` the tracker returned covers the whole message (pyzmq's covers its
        last frame): zmtp queues and releases a message as one.
        """
        self._check_open()
        tracker = None
        if copy:
            message = [_frame(part) for part in msg_parts]
        else:
            outgoing = [_outgoing(part, False, track, self.copy_threshold) for part in msg_parts]
            message = [frame for frame, _ in outgoing]
            tracker = _whole_message_tracker([part_tracker for _, part_tracker in outgoing])
        if not message:
            raise ZMQError(Errno.EINVAL, "a message has at least one frame")
        self._send_message(self._sending + message, flags & ~_SNDMORE)
        self._sending.clear()
        return tracker

    def _send_message(self, message: Message, flags: int) -> None:
        with self._lock:
            try:
                self._core.send(message)
            except Again:
                if flags & _DONTWAIT:
                    raise
                self._send_waiting(message, flags)

    def _send_waiting(self, message: Message, flags: int) -> None:
        """Wait for room under SNDTIMEO (the caller holds the lock and found none)."""
        # Only a send that must wait pays for the timeout arithmetic.
        deadline = self._deadline(flags, _O.SNDTIMEO)
        while True:
            self._wait(deadline)
            try:
                self._core.send(message)
                return
            except Again:
                pass

    def send_string(
        self,
        u: str,
        flags: int = 0,
        copy: bool = True,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> MessageTracker | None:
        """Send a str encoded as ``encoding`` (``track`` as in send)."""
        if not isinstance(u, str):
            raise TypeError("send_string takes a str")
        return self.send(u.encode(encoding), flags, copy, **kwargs)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> MessageTracker | None:
        """Send ``obj`` as JSON; ``copy`` and ``track`` go to send, the rest to json.dumps."""
        sending = {name: kwargs.pop(name) for name in ("copy", "track") if name in kwargs}
        return self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags, **sending)

    def send_pyobj(
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL, **kwargs: Any
    ) -> MessageTracker | None:
        """Send ``obj`` pickled (``copy`` and ``track`` as in send)."""
        return self.send(pickle.dumps(obj, protocol), flags, **kwargs)

    def send_serialized(
        self,
        msg: Any,
        serialize: Callable[[Any], Sequence[Any]],
        flags: int = 0,
        copy: bool = True,
        **kwargs: Any,
    ) -> MessageTracker | None:
        """Send ``serialize(msg)``, a sequence of frames, as one message (pyzmq's)."""
        return self.send_multipart(serialize(msg), flags, copy, **kwargs)

    # -- receiving ----------------------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one frame; RCVMORE says whether more of the message follow.

        With ``copy=False`` the frame comes as a :class:`~zmtp.frame.Frame` carrying the
        sender's properties (``frame.get("User-Id")``), as pyzmq does.
        """
        if not copy:
            return self._recv_frame(flags, track)
        if self._unusable:
            self._check_open()
        receiving = self._receiving
        if receiving:
            return receiving.pop(0)
        # _recv_message inlined: this is the per-message path.
        with self._lock:
            try:
                message = self._core.recv()
            except Again:
                message = self._recv_waiting(flags)
        if _TRACKED_REFS:
            message = _plain(message)
        if len(message) > 1:
            receiving.extend(message[1:])
        return message[0]

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        """Receive the rest of a message, or a whole new one (Frames with ``copy=False``)."""
        if not copy:
            frames = [self._recv_frame(flags, track)]
            while frames[-1].more:
                frames.append(self._recv_frame(flags, track))
            return frames
        if self._unusable:
            self._check_open()
        receiving = self._receiving
        if receiving:
            message = receiving[:]
            receiving.clear()
            return message
        return self._recv_message(flags)

    def _recv_frame(self, flags: int, track: bool) -> Frame:
        """Receive one frame as a Frame with the properties of the peer that sent it."""
        if self._unusable:
            self._check_open()
        receiving = self._receiving
        handle = self._handle
        if not receiving:
            with self._lock:
                receiving.extend(self._recv_message(flags))
                source = self._core.last_source()
            handle.properties = source.metadata if source is not None else Metadata()
        frame = Frame._received(receiving.pop(0), bool(receiving), handle.properties)
        if track:
            # pyzmq's received frames are libzmq's own memory: nothing to wait for.
            frame.tracker = FINISHED_TRACKER
        return frame

    def _recv_message(self, flags: int) -> Message:
        with self._lock:
            try:
                message = self._core.recv()
            except Again:
                message = self._recv_waiting(flags)
        return _plain(message) if _TRACKED_REFS else message

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive one frame into ``buffer``; return the frame's size (pyzmq 26.4's).

        ``buffer`` is any writable, contiguous buffer; at most ``nbytes`` bytes (default: its
        size) are written, and a larger frame is truncated: the return value, its full size,
        shows that. An empty buffer receives and discards a frame.
        """
        if self._unusable:
            self._check_open()
        if nbytes < 0:
            raise ValueError(f"nbytes={nbytes} must not be negative")
        view = memoryview(buffer)
        if view.readonly:
            raise BufferError("recv_into needs a writable buffer, not a read-only one")
        if not view.c_contiguous:
            raise BufferError("recv_into needs a contiguous buffer")
        view = view.cast("B")
        if nbytes == 0:
            nbytes = view.nbytes
        elif nbytes > view.nbytes:
            raise ValueError(f"nbytes={nbytes} is more than the buffer's {view.nbytes} bytes")
        # This class's recv, not an override: zmtp.asyncio's returns a Future.
        data: bytes = Socket.recv(self, flags)
        size = min(len(data), nbytes)
        view[:size] = memoryview(data)[:size]
        return len(data)

    def _recv_waiting(self, flags: int) -> Message:
        """Wait for a message under RCVTIMEO (the caller holds the lock and found none)."""
        timeout = 0 if flags & _DONTWAIT else self._int(_O.RCVTIMEO)
        if timeout == 0:  # NOBLOCK, or RCVTIMEO 0: the same non-blocking receive
            lending = self._engine.lending
            # Bytes may wait in the kernel on a lent connection that no thread polls.
            if lending.lent and lending.read_now():
                return self._core.recv()
            raise Again()
        deadline = None if timeout < 0 else time.monotonic() + timeout / 1000
        while True:
            self._wait_for_input(deadline)
            try:
                return self._core.recv()
            except Again:
                pass

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        """Receive a frame and decode it."""
        data: bytes = self.recv(flags)
        return data.decode(encoding)

    recv_unicode = recv_string

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        """Receive a frame and parse it as JSON."""
        return json.loads(self.recv(flags), **kwargs)

    def recv_pyobj(self, flags: int = 0) -> Any:
        """Receive a frame and unpickle it (only from peers you trust)."""
        return pickle.loads(self.recv(flags))  # pyzmq's API; its risk is documented

    def recv_serialized(
        self, deserialize: Callable[[list[Any]], Any], flags: int = 0, copy: bool = True
    ) -> Any:
        """Receive a message and return ``deserialize(frames)`` (pyzmq's)."""
        return deserialize(self.recv_multipart(flags, copy))

    # -- polling ------------------------------------------------------------------------------

    def _file_descriptor(self) -> int:
        """Create (once) the descriptor of zmtp.signal_fd and return its number."""
        handle = self._handle
        with self._lock:
            if handle.signal_fd is None:
                signal_fd = SignalFD()
                handle.signal_fd = signal_fd
                self._watchers.add(signal_fd.signal)
                # Readable at first: whatever is already queued is seen at the first EVENTS.
                signal_fd.signal()
            return handle.signal_fd.fileno()

    def _events(self) -> int:
        signal_fd = self._handle.signal_fd
        if signal_fd is not None:
            # Reset before looking: a change from now on makes the descriptor readable again.
            signal_fd.clear()
        with self._lock:
            lending = self._engine.lending
            if lending.lent:
                # The socket is being polled: the I/O thread must read for it again.
                lending.take_back()
                lending.read_now()
            events = 0
            if self._receiving or self._core.readable():
                events |= PollEvent.POLLIN
            if self._core.writable():
                events |= PollEvent.POLLOUT
            return events

    def poll(self, timeout: int | None = None, flags: int = PollEvent.POLLIN) -> int:
        """Wait up to ``timeout`` ms (None or -1: forever) for one of ``flags``; return events."""
        self._check_open()
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
        with self._lock:
            while True:
                events = self._events() & flags
                if events:
                    return events
                try:
                    self._wait(deadline)
                except Again:
                    return 0

    # -- endpoints ----------------------------------------------------------------------------

    def bind(self, addr: str | bytes) -> _SocketContext:
        """Bind to an endpoint (``tcp://127.0.0.1:*``, ``ipc://path``, ``inproc://name``).

        As in pyzmq, the result is a context manager that unbinds on exit: ``with
        sock.bind("tcp://127.0.0.1:0"):`` binds a free port (``last_endpoint`` tells which)
        for the ``with`` block only.
        """
        self._check_open()
        self.context.run(self._engine.bind(_endpoint(addr)))
        return _SocketContext(self, "bind", self._engine.last_endpoint)

    def connect(self, addr: str | bytes) -> _SocketContext:
        """Connect to an endpoint; the connection is made (and remade) in the background.

        The result is a context manager that disconnects on exit, as in pyzmq.
        """
        self._check_open()
        endpoint = _endpoint(addr)
        self.context.run(self._engine.connect(endpoint))
        return _SocketContext(self, "connect", endpoint)

    def unbind(self, addr: str | bytes) -> None:
        """Stop listening on an endpoint bound earlier (its resolved LAST_ENDPOINT form)."""
        self._check_open()
        self.context.run(self._engine.unbind(_endpoint(addr)))

    def disconnect(self, addr: str | bytes) -> None:
        """Drop a connection made with ``connect``."""
        self._check_open()
        self.context.run(self._engine.disconnect(_endpoint(addr)))

    def bind_to_random_port(
        self, addr: str | bytes, min_port: int = 49152, max_port: int = 65536, max_tries: int = 100
    ) -> int:
        """Bind ``addr`` on a port from the range (any free one when it is the default)."""
        return random_port.bind_to_random_port(
            self.bind,
            lambda: self._engine.last_endpoint,
            _endpoint(addr),
            min_port=min_port,
            max_port=max_port,
            max_tries=max_tries,
        )

    @property
    def last_endpoint(self) -> bytes:
        """The endpoint of the last bind, with the real port or path (bytes, as pyzmq)."""
        return self._engine.last_endpoint.encode()

    # -- options ------------------------------------------------------------------------------

    def _int(self, option: SocketOption) -> int:
        value = self._core.options.get(option, -1)
        return value if isinstance(value, int) else -1

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a socket option, checked as libzmq checks it (EINVAL, TypeError)."""
        self._check_open()
        if option not in OPTIONS and type(value) is not int:
            # pyzmq takes an unknown option for an int one: any other value is a TypeError
            # before libzmq gets to say EINVAL.
            raise TypeError(f"option {option!r} is not a known socket option; expected an int")
        stored = checked_setsockopt(option, value, self.socket_type)
        with self._lock:
            self._core.set_option(_O(option), stored)

    def getsockopt(self, option: int) -> Any:
        """Return a socket option's value (read-only ones included)."""
        self._check_open()
        if option == _O.TYPE:
            return int(self.socket_type)
        if option == _O.RCVMORE:
            return int(bool(self._receiving))
        if option == _O.EVENTS:
            return self._events()
        if option == _O.LAST_ENDPOINT:
            return self.last_endpoint
        if option == _O.FD:
            return self._file_descriptor()
        try:
            spec = option_spec(option)
        except ConfigurationError as exc:
            raise ZMQError(Errno.EINVAL, str(exc)) from None
        if not spec.gettable_on(self.socket_type) or spec.option not in self._core.options:
            raise ZMQError(Errno.EINVAL, f"{spec.option.name} cannot be read on this socket")
        return self._core.options[spec.option]

    set = setsockopt
    get = getsockopt

    def set_string(self, option: int, optval: str, encoding: str = "utf-8") -> None:
        """Set a bytes option from a str."""
        if not isinstance(optval, str):
            raise TypeError(f"set_string takes a str, not {type(optval).__name__}")
        self.setsockopt(option, optval.encode(encoding))

    def get_string(self, option: int, encoding: str = "utf-8") -> str:
        """Read a bytes option as a str (a TypeError for an option that is not bytes)."""
        try:
            spec = option_spec(option)
        except ConfigurationError as exc:
            raise ZMQError(Errno.EINVAL, str(exc)) from None
        if spec.value_type is not ValueType.BYTES:
            raise TypeError(f"{spec.option.name} is not a bytes option: it has no string value")
        value: bytes = self.getsockopt(option)
        return value.decode(encoding)

    setsockopt_string = setsockopt_unicode = set_string
    getsockopt_string = getsockopt_unicode = get_string

    def subscribe(self, topic: str | bytes) -> None:
        """SUB: subscribe to messages starting with ``topic``."""
        self.setsockopt(_O.SUBSCRIBE, topic.encode() if isinstance(topic, str) else topic)

    def unsubscribe(self, topic: str | bytes) -> None:
        """SUB: drop one subscription to ``topic``."""
        self.setsockopt(_O.UNSUBSCRIBE, topic.encode() if isinstance(topic, str) else topic)

    def get_hwm(self) -> int:
        """Return SNDHWM (pyzmq's ``hwm``: libzmq 4 has no single high-water mark)."""
        value: int = self.getsockopt(_O.SNDHWM)
        return value

    def set_hwm(self, value: int) -> None:
        """Set SNDHWM and RCVHWM together (setsockopt(HWM) itself is EINVAL, as in libzmq 4)."""
        for option in HWM_OPTIONS:
            self.setsockopt(option, value)

    hwm = property(get_hwm, set_hwm, doc="SNDHWM to read; SNDHWM and RCVHWM to set.")

    def fileno(self) -> int:
        """Return the FD option: a descriptor readable when EVENTS may have changed."""
        descriptor: int = self.getsockopt(_O.FD)
        return descriptor

    # pyzmq's attribute protocol: an option's lower-case name reads and writes the option;
    # any other unknown public name is an AttributeError, so typos do not pass.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        upper = name.upper()
        if upper not in _O.__members__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        try:
            return self.getsockopt(_O.__members__[upper])
        except ZMQError as exc:
            # As pyzmq: an option this socket cannot read (write-only, or not of its type)
            # is no attribute to Python, so hasattr() and mock's spec= see it as absent.
            if exc.errno in (Errno.EINVAL, Errno.EFAULT):
                raise AttributeError(f"{name} cannot be read on this socket: {exc}") from None
            raise

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self.__dict__:
            object.__setattr__(self, name, value)
        elif name in ("subscribe", "unsubscribe"):
            # pyzmq: these names are methods to call, and options to assign as well.
            option = _O.SUBSCRIBE if name == "subscribe" else _O.UNSUBSCRIBE
            self.setsockopt(option, value.encode() if isinstance(value, str) else value)
        elif _class_defines(type(self), name):
            object.__setattr__(self, name, value)
        elif name.upper() in _O.__members__:
            self.setsockopt(_O.__members__[name.upper()], value)
        else:
            raise AttributeError(f"{type(self).__name__} has no such option: {name.upper()}")

    def __dir__(self) -> list[str]:
        # pyzmq lists the option names too, for completion of ``sock.<option>``.
        return [*super().__dir__(), *_O.__members__]

    @property
    def type(self) -> SocketType:
        """The socket type."""
        return self.socket_type

    @property
    def rcvmore(self) -> bool:
        """Whether the last frame received has more frames after it."""
        return bool(self._receiving)

    # -- monitoring ---------------------------------------------------------------------------

    def monitor(self, addr: str | None, events: int = Event.ALL) -> None:
        """Report ``events`` to a PAIR socket bound at ``addr`` (None stops monitoring).

        Messages use libzmq's two-frame format (see :mod:`zmtp.monitor`). As in libzmq, an
        event is dropped if the monitor's reader falls behind by more than its HWM.
        """
        self._check_open()
        self.disable_monitor()
        if addr is None:
            return
        if not addr.startswith("inproc://"):
            raise ZMQError(Errno.EPROTONOSUPPORT, "monitor endpoints must be inproc://")
        pair = self.context.socket(SocketType.PAIR)
        pair.bind(addr)
        core, lock = pair._core, pair._lock

        def report(event: int, value: int, endpoint: str) -> None:
            with lock, contextlib.suppress(Again):
                core.send(encode_event(event, value, endpoint))

        object.__setattr__(self, "_monitor_pair", pair)
        self._engine.monitor_events = int(events) or int(Event.ALL)
        self._engine.monitor = report

    def disable_monitor(self) -> None:
        """Stop monitoring, after a final MONITOR_STOPPED event."""
        object.__setattr__(self, "_monitor_reader", None)
        pair = self.__dict__.get("_monitor_pair")
        if pair is None:
            return
        self._engine.emit(Event.MONITOR_STOPPED, 0, "")
        self._engine.monitor = None
        object.__setattr__(self, "_monitor_pair", None)
        pair.close(linger=100)  # bounded: a reader that fell behind must not hang close()

    def get_monitor_socket(self, events: int | None = None, addr: str | None = None) -> Socket:
        """Start monitoring and return a PAIR socket connected to the monitor endpoint.

        As in pyzmq, while that socket is open a second call returns it again (``events``
        and ``addr`` then change nothing); ``addr`` defaults to a name unique to this socket.
        """
        reader: Socket | None = self.__dict__.get("_monitor_reader")
        if reader is not None and not reader.closed:
            return reader
        if addr is None:
            addr = f"inproc://monitor.s-{id(self)}"
        self.monitor(addr, Event.ALL if events is None else events)
        reader = self.context.socket(SocketType.PAIR)
        reader.connect(addr)
        object.__setattr__(self, "_monitor_reader", reader)
        return reader

    # -- closing ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    def close(self, linger: int | None = None) -> None:
        """Close the socket (through any of its objects); queued messages get LINGER ms."""
        if self._closed:
            return
        handle = self._handle
        linger_ms = self._int(_O.LINGER) if linger is None else linger
        self.disable_monitor()
        with self._lock:
            handle.mark(closed=True)
        if handle.signal_fd is not None:
            self._watchers.discard(handle.signal_fd.signal)
            handle.signal_fd.close()
        try:
            # As zmq_close: addresses are free when close() returns, while queued messages
            # get up to LINGER ms in the background; Context.term() waits for them.
            self.context.run(self._engine.stop_listening())
            self.context._linger(self._engine.close(linger_ms))
        finally:
            owner = handle.owner()
            if owner is not None:
                self.context._socket_closed(owner)

    def __del__(self) -> None:
        # A socket dropped without close() is closed as pyzmq does, without blocking: the
        # collector may run in any thread, the I/O thread included. A shadow never closes
        # the socket it shares on collection, as in pyzmq.
        if self.__dict__.get("_shadow", True) or self.__dict__.get("_closed", True):
            return
        with contextlib.suppress(Exception):
            self._handle.mark(closed=True)
            closing = self._engine.close(self._int(_O.LINGER))
            try:
                self.context._linger(closing)
            except Exception:
                closing.close()  # the context's I/O thread is gone: nothing is left to close
                raise
            finally:
                self.context._socket_closed(self)

    def __enter__(self) -> Socket:
        return self

    def __exit__(
        self,
        exc_type: builtins.type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        name = type(self).__dict__.get("_repr_cls")
        if name is None:
            name = f"{type(self).__module__}.{type(self).__qualname__}"
        kind = self.__dict__.get("socket_type")
        closed = " closed" if self.__dict__.get("_closed", True) else ""
        type_name = kind.name if isinstance(kind, SocketType) else "UNKNOWN"
        return f"<{name}(zmq.{type_name}) at {id(self):#x}{closed}>"
