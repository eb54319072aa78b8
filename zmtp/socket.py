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
from typing import TYPE_CHECKING, Any

from zmtp.constants import Errno, Event, Flag, PollEvent, SocketOption, SocketType
from zmtp.engine.socket_engine import SocketEngine
from zmtp.errors import (
    Again,
    ConfigurationError,
    ContextTerminated,
    OptionTypeError,
    ZMQBindError,
    ZMQError,
)
from zmtp.frame import Frame
from zmtp.metadata import Metadata
from zmtp.monitor import encode_event
from zmtp.options import HWM_OPTIONS, OPTIONS, option_spec, validate
from zmtp.pipe import Message
from zmtp.signal_fd import SignalFD
from zmtp.sockets import create_socket_core

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


def _class_defines(cls: type, name: str) -> bool:
    return any(name in klass.__dict__ for klass in cls.__mro__)


def _endpoint(addr: str | bytes) -> str:
    """Accept an endpoint as str or bytes, as pyzmq does."""
    return addr.decode() if isinstance(addr, bytes) else addr


def _frame(data: Any) -> bytes:
    """Return ``data`` as one frame, refusing str as pyzmq does."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        raise TypeError("str objects cannot be sent as frames: encode them, or use send_string")
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(f"a frame must be bytes-like, not {type(data).__name__}") from None


class Socket:
    """A ZeroMQ socket with pyzmq's blocking API."""

    context: Context
    socket_type: SocketType

    def __init__(self, context: Context, socket_type: int) -> None:
        core = create_socket_core(socket_type)
        self._core = core
        # Public attributes are set past __setattr__, which reads public names as options.
        object.__setattr__(self, "context", context)
        object.__setattr__(self, "socket_type", core.socket_type)
        self._lock = threading.RLock()
        self._ready = threading.Condition(self._lock)
        self._watchers: set[Callable[[], None]] = set()
        # getsockopt(FD)'s descriptor, made on first use (see zmtp.signal_fd).
        self._signal_fd: SignalFD | None = None
        self._sending: list[bytes] = []
        # Frames of a message already taken from the socket but not yet handed out by recv();
        # RCVMORE is whether any are left. Mutated in place: assigning attributes goes
        # through this class's __setattr__, which is too slow for the per-message path.
        self._receiving: list[bytes] = []
        # The sender's properties for the frames in _receiving (Frame.get).
        self._properties = Metadata()
        self._terminated = False
        self._closed = False
        # Either of the two above: one attribute test on the per-message path.
        self._unusable = False
        # The thread blocked in this socket, if any: a second thread that would block too is
        # using the socket concurrently, which libzmq forbids; it gets EFAULT, not corruption.
        self._waiter: int | None = None
        # The engine holds only a weak reference to this socket, so that a socket dropped
        # without close() can be collected (and then closed) as in pyzmq.
        notify = weakref.WeakMethod(self._notify)

        def wake() -> None:
            method = notify()
            if method is not None:
                method()

        self._engine = SocketEngine(context.loop, core, self._lock, wake, context.inproc)
        context._socket_created(self)

    # -- waking and waiting -------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake threads waiting on this socket (called by the I/O thread)."""
        with self._lock:
            if self._waiter is not None:
                self._ready.notify_all()
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher()

    def _terminate(self) -> None:
        """Make blocking calls raise ETERM from now on: the context is ending."""
        with self._lock:
            self._terminated = True
            self._unusable = True
            self._ready.notify_all()
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
        if self._terminated:
            raise ContextTerminated()
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Again()
        else:
            remaining = None
        me = threading.get_ident()
        if self._waiter is not None and self._waiter != me:
            raise ZMQError(
                Errno.EFAULT,
                "the socket is already in use by another thread (sockets are not"
                " thread-safe: use one per thread, or hand messages over inproc)",
            )
        self._waiter = me
        try:
            self._ready.wait(remaining)
        finally:
            self._waiter = None
        if self._terminated:
            raise ContextTerminated()

    def _check_open(self) -> None:
        if self._closed:
            raise ZMQError(Errno.ENOTSOCK, "the socket is closed")
        if self._terminated:
            raise ContextTerminated()

    # -- sending ------------------------------------------------------------------------------

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False) -> None:
        """Send one frame; with SNDMORE, more frames of the same message follow."""
        if self._unusable:
            self._check_open()
        frame = data if type(data) is bytes else _frame(data)
        if flags & _SNDMORE:
            self._sending.append(frame)
            return
        # The gathered frames stay gathered if this raises (Again), so the caller may retry
        # the last frame, as libzmq lets it.
        sending = self._sending
        if sending:
            self._send_message([*sending, frame], flags)
            sending.clear()
            return
        # The single-frame send inlines _send_message: it is the per-message path.
        message = [frame]
        with self._lock:
            try:
                self._core.send(message)
            except Again:
                if flags & _DONTWAIT:
                    raise
                self._send_waiting(message, flags)

    def send_multipart(
        self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> None:
        """Send a whole multipart message at once."""
        self._check_open()
        message = [_frame(part) for part in msg_parts]
        if not message:
            raise ZMQError(Errno.EINVAL, "a message has at least one frame")
        self._send_message(self._sending + message, flags & ~_SNDMORE)
        self._sending.clear()

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
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8"
    ) -> None:
        """Send a str encoded as ``encoding``."""
        if not isinstance(u, str):
            raise TypeError("send_string takes a str")
        self.send(u.encode(encoding), flags)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> None:
        """Send ``obj`` as JSON."""
        self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags)

    def send_pyobj(self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL) -> None:
        """Send ``obj`` pickled."""
        self.send(pickle.dumps(obj, protocol), flags)

    # -- receiving ----------------------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one frame; RCVMORE says whether more of the message follow.

        With ``copy=False`` the frame comes as a :class:`~zmtp.frame.Frame` carrying the
        sender's properties (``frame.get("User-Id")``), as pyzmq does.
        """
        if not copy:
            return self._recv_frame(flags)
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
                if flags & _DONTWAIT:
                    raise
                message = self._recv_waiting(flags)
        if len(message) > 1:
            receiving.extend(message[1:])
        return message[0]

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        """Receive the rest of a message, or a whole new one (Frames with ``copy=False``)."""
        if not copy:
            frames = [self._recv_frame(flags)]
            while frames[-1].more:
                frames.append(self._recv_frame(flags))
            return frames
        if self._unusable:
            self._check_open()
        receiving = self._receiving
        if receiving:
            message = receiving[:]
            receiving.clear()
            return message
        return self._recv_message(flags)

    def _recv_frame(self, flags: int) -> Frame:
        """Receive one frame as a Frame with the properties of the peer that sent it."""
        if self._unusable:
            self._check_open()
        receiving = self._receiving
        if not receiving:
            with self._lock:
                receiving.extend(self._recv_message(flags))
                source = self._core.last_source()
            self._properties = source.metadata if source is not None else Metadata()
        data = receiving.pop(0)
        return Frame(data, more=bool(receiving), metadata=self._properties)

    def _recv_message(self, flags: int) -> Message:
        with self._lock:
            try:
                return self._core.recv()
            except Again:
                if flags & _DONTWAIT:
                    raise
                return self._recv_waiting(flags)

    def _recv_waiting(self, flags: int) -> Message:
        """Wait for a message under RCVTIMEO (the caller holds the lock and found none)."""
        deadline = self._deadline(flags, _O.RCVTIMEO)
        while True:
            self._wait(deadline)
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

    # -- polling ------------------------------------------------------------------------------

    def _file_descriptor(self) -> int:
        """Create (once) the descriptor of zmtp.signal_fd and return its number."""
        with self._lock:
            if self._signal_fd is None:
                signal_fd = SignalFD()
                self._signal_fd = signal_fd
                self._watchers.add(signal_fd.signal)
                # Readable at first: whatever is already queued is seen at the first EVENTS.
                signal_fd.signal()
            return self._signal_fd.fileno()

    def _events(self) -> int:
        signal_fd = self._signal_fd
        if signal_fd is not None:
            # Reset before looking: a change from now on makes the descriptor readable again.
            signal_fd.clear()
        with self._lock:
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

    def bind(self, addr: str | bytes) -> None:
        """Bind to an endpoint (``tcp://127.0.0.1:*``, ``ipc://path``, ``inproc://name``)."""
        self._check_open()
        self.context.run(self._engine.bind(_endpoint(addr)))

    def connect(self, addr: str | bytes) -> None:
        """Connect to an endpoint; the connection is made (and remade) in the background."""
        self._check_open()
        self.context.run(self._engine.connect(_endpoint(addr)))

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
        addr = _endpoint(addr)
        if min_port == 49152 and max_port == 65536:
            self.bind(f"{addr}:*")
            return int(self.last_endpoint.rsplit(b":", 1)[1])
        for port in range(min_port, min(max_port, min_port + max_tries)):
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as exc:
                if exc.errno not in (Errno.EADDRINUSE, Errno.EACCES):
                    raise
            else:
                return port
        raise ZMQBindError(Errno.EADDRINUSE, "Could not bind socket to random port.")

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
        try:
            stored = validate(option, value, self.socket_type)
        except OptionTypeError as exc:
            raise TypeError(str(exc)) from None
        except ConfigurationError as exc:
            raise ZMQError(Errno.EINVAL, str(exc)) from None
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
        self.setsockopt(option, optval.encode(encoding))

    def get_string(self, option: int, encoding: str = "utf-8") -> str:
        """Read a bytes option as a str."""
        value = self.getsockopt(option)
        return value.decode(encoding) if isinstance(value, bytes) else str(value)

    setsockopt_string = set_string
    getsockopt_string = get_string

    def subscribe(self, topic: str | bytes) -> None:
        """SUB: subscribe to messages starting with ``topic``."""
        self.setsockopt(_O.SUBSCRIBE, topic.encode() if isinstance(topic, str) else topic)

    def unsubscribe(self, topic: str | bytes) -> None:
        """SUB: drop one subscription to ``topic``."""
        self.setsockopt(_O.UNSUBSCRIBE, topic.encode() if isinstance(topic, str) else topic)

    # pyzmq's attribute protocol: an option's lower-case name reads and writes the option;
    # ``hwm`` stands for SNDHWM and RCVHWM together (setsockopt(HWM) itself is EINVAL, as in
    # libzmq 4); any other unknown public name is an AttributeError, so typos do not pass.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "hwm":
            return self.getsockopt(_O.SNDHWM)
        upper = name.upper()
        if upper not in _O.__members__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.getsockopt(_O.__members__[upper])

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self.__dict__ or _class_defines(type(self), name):
            object.__setattr__(self, name, value)
        elif name == "hwm":
            for option in HWM_OPTIONS:
                self.setsockopt(option, value)
        elif name.upper() in _O.__members__:
            self.setsockopt(_O.__members__[name.upper()], value)
        else:
            raise AttributeError(f"{type(self).__name__} has no such option: {name.upper()}")

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
        pair = self.__dict__.get("_monitor_pair")
        if pair is None:
            return
        self._engine.emit(Event.MONITOR_STOPPED, 0, "")
        self._engine.monitor = None
        object.__setattr__(self, "_monitor_pair", None)
        pair.close(linger=100)  # bounded: a reader that fell behind must not hang close()

    def get_monitor_socket(self, events: int | None = None, linger: int | None = None) -> Socket:
        """Start monitoring and return a PAIR socket connected to the monitor endpoint."""
        addr = f"inproc://monitor.s-{id(self)}"
        self.monitor(addr, Event.ALL if events is None else events)
        reader = self.context.socket(SocketType.PAIR)
        if linger is not None:
            reader.linger = linger
        reader.connect(addr)
        return reader

    # -- closing ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    def close(self, linger: int | None = None) -> None:
        """Close the socket; queued messages get up to LINGER ms to leave."""
        if self._closed:
            return
        linger_ms = self._int(_O.LINGER) if linger is None else linger
        self.disable_monitor()
        self._closed = True
        self._unusable = True
        if self._signal_fd is not None:
            self._watchers.discard(self._signal_fd.signal)
            self._signal_fd.close()
        try:
            # As zmq_close: addresses are free when close() returns, while queued messages
            # get up to LINGER ms in the background; Context.term() waits for them.
            self.context.run(self._engine.stop_listening())
            self.context.linger(self._engine.close(linger_ms))
        finally:
            self.context._socket_closed(self)

    def __del__(self) -> None:
        # A socket dropped without close() is closed as pyzmq does, without blocking: the
        # collector may run in any thread, the I/O thread included.
        if self.__dict__.get("_closed", True):
            return
        self._closed = True
        self._unusable = True
        with contextlib.suppress(Exception):
            self.context.linger(self._engine.close(self._int(_O.LINGER)))
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
        state = "closed" if self._closed else self.socket_type.name
        return f"<zmtp.Socket({state}) at {id(self):#x}>"
