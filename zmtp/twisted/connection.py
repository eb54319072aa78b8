"""ZmqConnection: one ZeroMQ socket as a Twisted object, in the refactored txZMQ design.

A connection is created from a :class:`~zmtp.twisted.factory.ZmqFactory` and then bound or
connected as often as needed. Incoming multipart messages arrive as lists of bytes, either at
``callback`` or at an overridden :meth:`ZmqConnection.messageReceived`. ``send`` never raises
EAGAIN: it returns a Deferred that fires once the message is queued under the high-water mark
(immediately when there is room), so a producer can wait for room instead of polling.

The socket semantics are the shared sans-IO socket core's (:mod:`zmtp.sockets`); this class
only turns its "would block" answers into waiting and its arrivals into calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from zmtp import random_port
from zmtp.constants import Errno, Event, SocketOption, SocketType
from zmtp.errors import Again, ConfigurationError, ZMQError
from zmtp.options import (
    HWM_OPTIONS,
    OPTIONS,
    ValueType,
    checked_setsockopt,
    option_spec,
)
from zmtp.pipe import Message
from zmtp.sockets import create_socket_core
from zmtp.twisted._driver import SocketDriver
from zmtp.twisted._types import DelayedCall
from zmtp.twisted.factory import ZmqFactory

_O = SocketOption
# Messages handed to the application per reactor turn, so one busy socket cannot starve others.
_DELIVERY_BATCH = 1024

MessageLike = bytes | str | bytearray | memoryview | Iterable[bytes | str | bytearray | memoryview]
"""What ``send`` takes: one frame, or a sequence of frames (str is encoded as UTF-8)."""


def _frame(part: object) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        # The seed's examples were written for Python 2, where these were bytes.
        return part.encode("utf-8")
    if isinstance(part, bytearray | memoryview):
        return bytes(part)
    raise TypeError(f"a message frame must be bytes or str, not {type(part).__name__}")


def to_message(message: object) -> Message:
    """Turn ``send``'s argument into a list of frames, refusing anything else clearly."""
    if isinstance(message, bytes | str | bytearray | memoryview):
        return [_frame(message)]
    if isinstance(message, Iterable):
        parts = [_frame(part) for part in message]
        if not parts:
            raise ValueError("a message needs at least one frame")
        return parts
    raise TypeError(f"send() takes bytes, str or a list of frames, not {type(message).__name__}")


class ZmqConnection:
    """One socket of type ``socketType``; see the module docstring."""

    socketType: ClassVar[SocketType]
    log = Logger()

    def __init__(self, factory: ZmqFactory, callback: Callable[..., object] | None = None) -> None:
        if not isinstance(factory, ZmqFactory):
            raise TypeError(
                f"the first argument must be a ZmqFactory, not {type(factory).__name__}"
            )
        self._core = create_socket_core(self.socketType)
        self.factory = factory
        self.callback = callback
        self._core.set_option(_O.LINGER, factory.lingerPeriod)
        self._driver = SocketDriver(factory.reactor, self._core, self._changed, factory.inproc)
        self._sends: deque[tuple[Message, Deferred[None]]] = deque()
        self._service_call: DelayedCall | None = None
        self._shut_down = False
        factory.connections.add(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.socketType.name}, {self._driver.last_endpoint!r})"

    # -- endpoints ----------------------------------------------------------------------------

    def bind(self, endpoint: str | bytes) -> None:
        """Bind ``endpoint`` (tcp, ipc or inproc) now; errors raise ZMQError at once."""
        self._driver.bind(_endpoint(endpoint))

    def connect(self, endpoint: str | bytes) -> None:
        """Connect to ``endpoint``; the connection is made (and remade) in the background."""
        self._driver.connect(_endpoint(endpoint))

    def unbind(self, endpoint: str | bytes) -> Deferred[None]:
        """Stop listening on an endpoint bound earlier (its LAST_ENDPOINT form).

        Fires once the address is free again (the reactor closes a listener on its next turn).
        """
        return self._driver.unbind(_endpoint(endpoint))

    def disconnect(self, endpoint: str | bytes) -> None:
        """Drop a connection made with ``connect``."""
        self._driver.disconnect(_endpoint(endpoint))

    def bind_to_random_port(
        self, addr: str | bytes, min_port: int = 49152, max_port: int = 65536, max_tries: int = 100
    ) -> int:
        """Bind ``addr`` on a port from the range (any free one for the default range)."""
        return random_port.bind_to_random_port(
            self.bind,
            lambda: self._driver.last_endpoint,
            _endpoint(addr),
            min_port=min_port,
            max_port=max_port,
            max_tries=max_tries,
        )

    @property
    def last_endpoint(self) -> bytes:
        """The endpoint of the last bind, with the real port or path (bytes, as pyzmq)."""
        return self._driver.last_endpoint.encode()

    # -- options ------------------------------------------------------------------------------

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a socket option, checked as libzmq checks it (ZMQError EINVAL, TypeError).

        A str value of a bytes option is encoded as UTF-8 (the seed's Python 2 examples pass
        str topics to SUBSCRIBE).
        """
        self._check_open()
        try:
            spec = option_spec(option)
        except ConfigurationError as exc:
            raise ZMQError(Errno.EINVAL, str(exc)) from None
        if spec.value_type is ValueType.BYTES and isinstance(value, str):
            value = value.encode("utf-8")
        stored = checked_setsockopt(option, value, self.socketType)
        self._core.set_option(spec.option, stored)
        self._changed()

    def getsockopt(self, option: int) -> Any:
        """Return a socket option's value (TYPE and LAST_ENDPOINT included)."""
        if option == _O.TYPE:
            return int(self.socketType)
        if option == _O.LAST_ENDPOINT:
            return self.last_endpoint
        try:
            spec = option_spec(option)
        except ConfigurationError as exc:
            raise ZMQError(Errno.EINVAL, str(exc)) from None
        if not spec.gettable_on(self.socketType) or spec.option not in self._core.options:
            raise ZMQError(Errno.EINVAL, f"{spec.option.name} cannot be read on this socket")
        return self._core.options[spec.option]

    set = setsockopt
    get = getsockopt

    # pyzmq's attribute protocol: an option's lower-case name reads and writes it (``hwm``
    # sets both high-water marks). Other attributes are ordinary, so subclasses keep state.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "hwm":
            return self.getsockopt(_O.SNDHWM)
        option = _O.__members__.get(name.upper())
        if option is None or option not in OPTIONS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.getsockopt(option)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)
        elif name == "hwm":
            for option in HWM_OPTIONS:
                self.setsockopt(option, value)
        elif name.upper() in _O.__members__ and _O.__members__[name.upper()] in OPTIONS:
            self.setsockopt(_O.__members__[name.upper()], value)
        else:
            object.__setattr__(self, name, value)

    # -- sending ------------------------------------------------------------------------------

    def send(self, message: MessageLike) -> Deferred[None]:
        """Queue a message (one frame, or a list of frames); fires once it is queued.

        It fires at once when the socket has room; otherwise it waits, in order with other
        sends, for room under SNDHWM (or for a peer, for types that need one), and cancelling
        the Deferred withdraws the message. Errors (EFSM for a REQ that awaits a reply,
        EHOSTUNREACH for ROUTER_MANDATORY...) fail the Deferred.
        """
        self._check_open()
        parts = to_message(message)
        done: Deferred[None] = Deferred(self._withdraw)
        self._sends.append((parts, done))
        self._pump_sends()
        return done

    def _withdraw(self, waiting: Deferred[None]) -> None:
        for entry in self._sends:
            if entry[1] is waiting:
                self._sends.remove(entry)
                return

    def _pump_sends(self) -> None:
        sends = self._sends
        while sends:
            parts, done = sends[0]
            try:
                self._core.send(parts)
            except Again:
                return
            except ZMQError as exc:
                sends.popleft()
                done.errback(exc)
                continue
            sends.popleft()
            done.callback(None)

    # -- receiving ----------------------------------------------------------------------------

    def messageReceived(self, message: list[bytes]) -> None:
        """Handle one multipart message; calls ``callback`` unless overridden."""
        if self.callback is None:
            self.log.warn(
                "{connection} has no callback: dropped {message!r}",
                connection=self,
                message=message,
            )
            return
        self.callback(message)

    def _may_receive(self) -> bool:
        """Whether the next message may be taken now (REP waits for its reply first)."""
        return True

    def _changed(self) -> None:
        """Peers came or went, messages arrived, or room appeared: act on the next turn."""
        if self._service_call is None and not self._shut_down:
            self._service_call = self.factory.reactor.callLater(0, self._service)

    def _service(self) -> None:
        self._service_call = None
        if self._shut_down:
            return
        self._pump_sends()
        core = self._core
        for _ in range(_DELIVERY_BATCH):
            if self._shut_down or not self._may_receive() or not core.readable():
                return
            try:
                message = core.recv()
            except Again:
                return
            try:
                self.messageReceived(message)
            except Exception:
                self.log.failure("{connection} failed to handle a message", connection=self)
        self._changed()  # more may be waiting: continue on the next turn

    # -- monitoring ---------------------------------------------------------------------------

    def monitor(
        self, callback: Callable[[Event, int, str], object] | None, events: int = Event.ALL
    ) -> None:
        """Call ``callback(event, value, endpoint)`` for ``events`` (libzmq's numbers and values).

        None stops monitoring. The events and their values are libzmq's socket monitor's
        (CONNECTED, ACCEPTED, HANDSHAKE_SUCCEEDED, DISCONNECTED, ...).
        """
        if callback is None:
            self._driver.monitor = None
            self._driver.monitor_events = 0
            return

        def report(event: Event, value: int, endpoint: str) -> None:
            callback(Event(event), value, endpoint)

        self._driver.monitor = report
        self._driver.monitor_events = events

    # -- shutting down ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._shut_down:
            raise ZMQError(Errno.ENOTSOCK, f"{type(self).__name__} has been shut down")

    def shutdown(self) -> Deferred[None]:
        """Close the socket: queued messages get up to LINGER ms to leave; fires when closed.

        Sends still waiting for room fail with ZMQError(ENOTSOCK).
        """
        if self._shut_down:
            return succeed(None)
        self._shut_down = True
        if self._service_call is not None and self._service_call.active():
            self._service_call.cancel()
        self._service_call = None
        waiting, self._sends = self._sends, deque()
        for _, done in waiting:
            done.errback(ZMQError(Errno.ENOTSOCK, "the connection was shut down before room came"))
        self.factory.connections.discard(self)
        linger = self._core.options.get(_O.LINGER, -1)
        return self._driver.close(linger if isinstance(linger, int) else -1)


def _endpoint(endpoint: str | bytes) -> str:
    if isinstance(endpoint, bytes):
        return endpoint.decode("utf-8")
    if not isinstance(endpoint, str):
        raise TypeError(f"an endpoint is a str, not {type(endpoint).__name__}")
    return endpoint
