"""``zmtp.devices``: proxies configured in advance and run in the background (pyzmq's devices).

A device is given socket *types*, not sockets: binds, connects and options are queued for each
end and applied when the device starts, in the thread or process that runs it, because a socket
belongs to the thread that uses it. :class:`Device` runs in the caller, :class:`ThreadDevice`
in a daemon thread sharing :meth:`Context.instance`, :class:`ProcessDevice` in a
:mod:`multiprocessing` process with a context of its own (any start method: the device pickles
without its runtime state). They forward with :func:`zmtp.proxy` (``Proxy`` adds a capture
socket, ``ProxySteerable`` a control socket) or :func:`monitored_queue`
(``MonitoredQueue``), and stop quietly when their context is terminated (ETERM), or when a
steerable proxy is told ``TERMINATE``.

:func:`monitored_queue` is pyzmq's own forwarder (libzmq has none): both directions are copied
to a monitor socket behind a prefix naming the side each message came from, and two ROUTER
sockets can face each other because the sender's and the addressee's identities are swapped.

A process device terminates its context before the process exits, so messages still queued
get their LINGER, as in any libzmq program that ends with ``zmq_ctx_term``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from zmtp.constants import DeviceType, Errno, Flag, PollEvent, SocketType
from zmtp.context import Context
from zmtp.errors import Again, ZMQError
from zmtp.poll import Poller
from zmtp.proxy import proxy, proxy_steerable
from zmtp.socket import Socket

__all__ = [
    "BackgroundDevice",
    "Device",
    "MonitoredQueue",
    "ProcessDevice",
    "ProcessMonitoredQueue",
    "ProcessProxy",
    "ProcessProxySteerable",
    "Proxy",
    "ProxySteerable",
    "ThreadDevice",
    "ThreadMonitoredQueue",
    "ThreadProxy",
    "ThreadProxySteerable",
    "monitored_queue",
]

# Errors that mean "the device was shut down", not "the device failed" (as pyzmq).
_SHUTDOWN_ERRNOS = frozenset({Errno.ETERM, Errno.ENOTSOCK})
# Messages relayed from one side before the other gets its turn (libzmq's proxy_burst_size).
_BURST = 1000
_DONTWAIT = int(Flag.DONTWAIT)
# State that belongs to one run of a device, in the process that runs it: never pickled.
_RUNTIME_STATE = ("_context", "_sockets", "_finished", "launcher")


def monitored_queue(
    in_socket: Socket,
    out_socket: Socket,
    mon_socket: Socket,
    in_prefix: bytes = b"in",
    out_prefix: bytes = b"out",
) -> None:
    """Forward both ways between ``in_socket`` and ``out_socket`` until the context ends (ETERM).

    Every message is also sent on ``mon_socket`` as ``[prefix, *frames]``: ``in_prefix`` for
    messages that arrived on ``in_socket``, ``out_prefix`` for the others. When both sockets
    are ROUTERs the first two frames are swapped, so a message addressed ``[to, body]`` by
    the client with identity ``from`` reaches ``to`` as ``[from, body]`` and can be answered
    the same way; the monitor sees the swapped frames, as they are sent.
    """
    for name, sock in (
        ("in_socket", in_socket),
        ("out_socket", out_socket),
        ("mon_socket", mon_socket),
    ):
        if not isinstance(sock, Socket):
            raise TypeError(
                f"monitored_queue: {name} must be a zmtp Socket, not {type(sock).__name__}"
            )
    prefixes = (_check_prefix("in_prefix", in_prefix), _check_prefix("out_prefix", out_prefix))
    swap = in_socket.socket_type == SocketType.ROUTER == out_socket.socket_type
    poller = Poller()
    poller.register(in_socket, PollEvent.POLLIN)
    if out_socket is not in_socket:
        poller.register(out_socket, PollEvent.POLLIN)
    while True:
        events = dict(poller.poll())
        if in_socket in events:
            _relay(in_socket, out_socket, mon_socket, prefixes[0], swap)
        if out_socket is not in_socket and out_socket in events:
            _relay(out_socket, in_socket, mon_socket, prefixes[1], swap)


def _check_prefix(name: str, value: object) -> bytes:
    """Return a monitor prefix as bytes; text is refused, since its encoding would be a guess.

    ``name`` is the argument's name, for the error message.
    """
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"monitored_queue: {name} must be bytes, not {type(value).__name__}")
    return bytes(value)


def _relay(source: Socket, target: Socket, monitor: Socket, prefix: bytes, swap: bool) -> None:
    """Relay what ``source`` holds, in bursts as :func:`zmtp.proxy` forwards."""
    for _ in range(_BURST):
        try:
            message: list[bytes] = source.recv_multipart(_DONTWAIT)
        except Again:
            return
        if swap:
            message[:2] = message[1::-1]
        target.send_multipart(message)
        monitor.send_multipart([prefix, *message])


class _Launcher(Protocol):
    """What a background device needs from a Thread or a multiprocessing Process."""

    daemon: bool

    def start(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool: ...


@dataclass
class _End:
    """What to do with one of the device's sockets once it exists."""

    binds: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)
    sockopts: list[tuple[int, Any]] = field(default_factory=list)


class Device:
    """A proxy between two sockets made from their types, run by :meth:`start` in the caller.

    ``out_type < 0`` makes one socket serve as both ends (the ``out`` binds, connects and
    options apply to it too), e.g. a REP socket answering each request with itself.
    ``device_type`` is kept for pyzmq's sake; like libzmq, the proxy does not use it.
    """

    context_factory: Callable[[], Context] = Context.instance
    """Makes the context of the device's sockets: the shared instance, so terminating it
    stops the device; :class:`ProcessDevice` uses a fresh one."""

    daemon: bool
    """Whether a background device's thread or process is a daemon (default True): a device
    runs until its context ends, so a non-daemon one would keep the program alive."""

    def __init__(
        self,
        device_type: int = DeviceType.QUEUE,
        in_type: int | None = None,
        out_type: int | None = None,
    ) -> None:
        if in_type is None:
            raise TypeError("in_type must be specified: the socket type of the device's input")
        if out_type is None:
            raise TypeError(
                "out_type must be specified: a socket type, or -1 to reuse the input socket"
            )
        self.device_type = device_type
        self.in_type = in_type
        self.out_type = out_type
        self.daemon = True
        self._in = _End()
        self._out = _End()
        self._reserved: list[str] = []
        self._context: Context | None = None
        self._sockets: list[Socket] = []
        self._finished = threading.Event()

    # -- configuration, applied when the device starts ------------------------------------------

    def bind_in(self, addr: str) -> None:
        """Bind the input socket to ``addr`` when the device starts."""
        self._in.binds.append(addr)

    def bind_in_to_random_port(
        self, addr: str, min_port: int = 49152, max_port: int = 65536, max_tries: int = 100
    ) -> int:
        """Choose a free port on ``addr`` now; the input socket binds it when the device starts.

        The arguments are :meth:`Socket.bind_to_random_port`'s; the port is returned.
        """
        return self._bind_random(self._in, addr, min_port, max_port, max_tries)

    def connect_in(self, addr: str) -> None:
        """Connect the input socket to ``addr`` when the device starts."""
        self._in.connects.append(addr)

    def setsockopt_in(self, opt: int, value: Any) -> None:
        """Set an option on the input socket when the device starts, before any bind."""
        self._in.sockopts.append((opt, value))

    def bind_out(self, addr: str) -> None:
        """Bind the output socket to ``addr`` when the device starts."""
        self._out.binds.append(addr)

    def bind_out_to_random_port(
        self, addr: str, min_port: int = 49152, max_port: int = 65536, max_tries: int = 100
    ) -> int:
        """As :meth:`bind_in_to_random_port`, for the output socket."""
        return self._bind_random(self._out, addr, min_port, max_port, max_tries)

    def connect_out(self, addr: str) -> None:
        """Connect the output socket to ``addr`` when the device starts."""
        self._out.connects.append(addr)

    def setsockopt_out(self, opt: int, value: Any) -> None:
        """Set an option on the output socket when the device starts, before any bind."""
        self._out.sockopts.append((opt, value))

    def _bind_random(
        self, end: _End, addr: str, min_port: int, max_port: int, max_tries: int
    ) -> int:
        """Find a port on ``addr`` that is free now and queue its bind.

        As in pyzmq nothing holds the port until the device starts. The ports this device
        chose before are held during the search, so two of its ends never get the same one.
        """
        with Context() as scratch:
            # The last one probes; the others hold the earlier ports while it searches.
            sockets = [scratch.socket(SocketType.PUSH) for _ in range(len(self._reserved) + 1)]
            try:
                for holder, earlier in zip(sockets, self._reserved, strict=False):
                    with contextlib.suppress(ZMQError):  # taken by someone else: fine too
                        holder.bind(earlier)
                port = sockets[-1].bind_to_random_port(addr, min_port, max_port, max_tries)
            finally:
                for sock in sockets:
                    sock.close(linger=0)
        bound = f"{addr}:{port}"
        self._reserved.append(bound)
        end.binds.append(bound)
        return port

    def _plan(self) -> list[tuple[int, _End]]:
        """List the device's socket types and their settings, in ``run_device``'s order."""
        return [(self.in_type, self._in), (self.out_type, self._out)]

    # -- running ------------------------------------------------------------------------------

    @property
    def context(self) -> Context | None:
        """The context the running device's sockets belong to (None before it starts)."""
        return self._context

    @property
    def done(self) -> bool:
        """Whether the device has stopped."""
        return self._finished.is_set()

    def _setup_sockets(self) -> tuple[Socket, ...]:
        """Create the sockets and apply the queued options, then binds, then connects.

        Options come first because some (ROUTING_ID, for one) must precede connections.
        """
        context = self.context_factory()
        self._context = context
        sockets: list[Socket] = []
        for index, (kind, _) in enumerate(self._plan()):
            if index == 1 and kind < 0:
                sockets.append(sockets[0])  # the input socket serves as the output too
                continue
            sock = context.socket(kind)
            self._sockets.append(sock)  # closed by run() even if configuring it fails
            sockets.append(sock)
        ends = [(sock, end) for sock, (_, end) in zip(sockets, self._plan(), strict=True)]
        for sock, end in ends:
            for option, value in end.sockopts:
                sock.setsockopt(option, value)
        for sock, end in ends:
            for addr in end.binds:
                sock.bind(addr)
        for sock, end in ends:
            for addr in end.connects:
                sock.connect(addr)
        return tuple(sockets)

    def run_device(self) -> None:
        """Create the sockets and forward between them; override to forward differently."""
        ins, outs = self._setup_sockets()
        proxy(ins, outs)

    def run(self) -> None:
        """Run the device in this thread until it stops, then close its sockets.

        ETERM and ENOTSOCK end it quietly: they are how a device is shut down.
        """
        try:
            self.run_device()
        except ZMQError as exc:
            if exc.errno not in _SHUTDOWN_ERRNOS:
                raise
        finally:
            try:
                for sock in self._sockets:
                    sock.close()
            finally:
                self._finished.set()

    def start(self) -> None:
        """Run the device; here in the caller, so this returns only when it stops."""
        self.run()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` seconds (None: for ever) for the device to stop."""
        self._finished.wait(timeout)

    def __getstate__(self) -> dict[str, Any]:
        # A ProcessDevice is pickled into its process by the spawn and forkserver start
        # methods: its configuration travels, its locks, context and launcher do not.
        return {k: v for k, v in vars(self).items() if k not in _RUNTIME_STATE}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._context = None
        self._sockets = []
        self._finished = threading.Event()


class BackgroundDevice(Device):
    """A device run by a launcher (a thread or a process) so that :meth:`start` returns."""

    _launch_class: ClassVar[Callable[..., _Launcher]]
    launcher: _Launcher | None = None

    def start(self) -> None:
        """Start the device in the background; :meth:`join` waits for it to stop."""
        if self.launcher is not None:
            raise RuntimeError("a background device can be started only once, like a thread")
        self.launcher = self._launch_class(
            target=self._launched, name=type(self).__name__, daemon=self.daemon
        )
        self.launcher.start()

    def _launched(self) -> None:
        self.run()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` seconds (None: for ever) for the device to stop."""
        if self.launcher is None:
            raise RuntimeError("the device was not started")
        self.launcher.join(timeout)

    @property
    def done(self) -> bool:
        """Whether the device's thread or process has ended."""
        return (self.launcher is not None and not self.launcher.is_alive()) or super().done


class ThreadDevice(BackgroundDevice):
    """A device run in a thread of this process, on :meth:`Context.instance`."""

    _launch_class = threading.Thread


class ProcessDevice(BackgroundDevice):
    """A device run in a process of its own, with a context of its own.

    The process uses :mod:`multiprocessing`'s current start method. Its context is terminated
    when the device stops, so queued messages get their LINGER before the process exits.
    """

    _launch_class = multiprocessing.Process
    context_factory = Context

    def _launched(self) -> None:
        try:
            self.run()
        finally:
            if self._context is not None:
                self._context.term()


class Proxy(Device):
    """A device with a third, capture socket that gets a copy of every message forwarded.

    A PUB capture socket is the usual choice; its binds, connects and options are queued with
    the ``*_mon`` methods.
    """

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB) -> None:
        super().__init__(DeviceType.QUEUE, in_type, out_type)
        self.mon_type = mon_type
        self._mon = _End()

    def bind_mon(self, addr: str) -> None:
        """Bind the capture socket to ``addr`` when the device starts."""
        self._mon.binds.append(addr)

    def bind_mon_to_random_port(
        self, addr: str, min_port: int = 49152, max_port: int = 65536, max_tries: int = 100
    ) -> int:
        """As :meth:`bind_in_to_random_port`, for the capture socket."""
        return self._bind_random(self._mon, addr, min_port, max_port, max_tries)

    def connect_mon(self, addr: str) -> None:
        """Connect the capture socket to ``addr`` when the device starts."""
        self._mon.connects.append(addr)

    def setsockopt_mon(self, opt: int, value: Any) -> None:
        """Set an option on the capture socket when the device starts, before any bind."""
        self._mon.sockopts.append((opt, value))

    def _plan(self) -> list[tuple[int, _End]]:
        return [*super()._plan(), (self.mon_type, self._mon)]

    def run_device(self) -> None:
        """Forward with :func:`zmtp.proxy`, copying to the capture socket."""
        ins, outs, mons = self._setup_sockets()
        proxy(ins, outs, mons)


class ProxySteerable(Proxy):
    """A :class:`Proxy` that also obeys a control socket; its TERMINATE stops the device.

    The commands are :func:`zmtp.proxy_steerable`'s: PAUSE, RESUME, TERMINATE, STATISTICS.
    """

    def __init__(
        self,
        in_type: int,
        out_type: int,
        mon_type: int = SocketType.PUB,
        ctrl_type: int | None = None,
    ) -> None:
        if ctrl_type is None:
            raise TypeError("ctrl_type must be specified: the socket type of the control socket")
        super().__init__(in_type, out_type, mon_type)
        self.ctrl_type = ctrl_type
        self._ctrl = _End()

    def bind_ctrl(self, addr: str) -> None:
        """Bind the control socket to ``addr`` when the device starts."""
        self._ctrl.binds.append(addr)

    def bind_ctrl_to_random_port(
        self, addr: str, min_port: int = 49152, max_port: int = 65536, max_tries: int = 100
    ) -> int:
        """As :meth:`bind_in_to_random_port`, for the control socket."""
        return self._bind_random(self._ctrl, addr, min_port, max_port, max_tries)

    def connect_ctrl(self, addr: str) -> None:
        """Connect the control socket to ``addr`` when the device starts."""
        self._ctrl.connects.append(addr)

    def setsockopt_ctrl(self, opt: int, value: Any) -> None:
        """Set an option on the control socket when the device starts, before any bind."""
        self._ctrl.sockopts.append((opt, value))

    def _plan(self) -> list[tuple[int, _End]]:
        return [*super()._plan(), (self.ctrl_type, self._ctrl)]

    def run_device(self) -> None:
        """Forward with :func:`zmtp.proxy_steerable` until TERMINATE or ETERM."""
        ins, outs, mons, ctrls = self._setup_sockets()
        proxy_steerable(ins, outs, mons, ctrls)


class MonitoredQueue(Proxy):
    """A device running :func:`monitored_queue`.

    The capture socket gets every message behind ``in_prefix`` or ``out_prefix``, and both
    ends may be ROUTERs.
    """

    def __init__(
        self,
        in_type: int,
        out_type: int,
        mon_type: int = SocketType.PUB,
        in_prefix: bytes = b"in",
        out_prefix: bytes = b"out",
    ) -> None:
        super().__init__(in_type, out_type, mon_type)
        # Checked now: in a background device the error would only surface in its thread.
        self.in_prefix = _check_prefix("in_prefix", in_prefix)
        self.out_prefix = _check_prefix("out_prefix", out_prefix)

    def run_device(self) -> None:
        """Forward with :func:`monitored_queue`."""
        ins, outs, mons = self._setup_sockets()
        monitored_queue(ins, outs, mons, self.in_prefix, self.out_prefix)


class ThreadProxy(Proxy, ThreadDevice):
    """A :class:`Proxy` run in a thread."""


class ProcessProxy(Proxy, ProcessDevice):
    """A :class:`Proxy` run in a process."""


class ThreadProxySteerable(ProxySteerable, ThreadProxy):
    """A :class:`ProxySteerable` run in a thread."""


class ProcessProxySteerable(ProxySteerable, ProcessProxy):
    """A :class:`ProxySteerable` run in a process."""


class ThreadMonitoredQueue(MonitoredQueue, ThreadProxy):
    """A :class:`MonitoredQueue` run in a thread."""


class ProcessMonitoredQueue(MonitoredQueue, ProcessProxy):
    """A :class:`MonitoredQueue` run in a process."""
