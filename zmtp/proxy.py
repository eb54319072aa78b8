"""``zmtp.proxy``, ``proxy_steerable`` and ``device``: libzmq's built-in message forwarder.

A proxy moves whole messages from its frontend to its backend and back (where both socket
types can send), copying each to the capture socket if there is one, until the context ends:
then it raises ETERM, as ``zmq_proxy`` returns -1 with ETERM. The steerable form also obeys a
control socket: ``PAUSE``, ``RESUME``, ``TERMINATE`` (return normally) and ``STATISTICS``
(answers eight 64-bit counters: messages and bytes in and out, frontend first), as libzmq 4.3.
``device`` is the old name; its type argument is ignored, as in libzmq.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from zmtp.constants import Flag, PollEvent
from zmtp.errors import Again
from zmtp.poll import Poller
from zmtp.socket import Socket

__all__ = ["device", "proxy", "proxy_steerable"]

_COUNTER = struct.Struct("=Q")
_BURST = 1000  # libzmq's proxy_burst_size
_DONTWAIT = int(Flag.DONTWAIT)


@dataclass
class _Side:
    """One end of the proxy with libzmq's four statistics counters."""

    socket: Socket
    counters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def received(self) -> list[bytes]:
        """Take the next waiting message (Again if none)."""
        message: list[bytes] = self.socket.recv_multipart(_DONTWAIT)
        self.counters[0] += 1
        self.counters[1] += sum(map(len, message))
        return message

    def send(self, message: list[bytes]) -> None:
        self.socket.send_multipart(message)
        self.counters[2] += 1
        self.counters[3] += sum(map(len, message))


def proxy(frontend: Socket, backend: Socket, capture: Socket | None = None) -> None:
    """Forward between ``frontend`` and ``backend`` until the context ends (ETERM)."""
    _run(frontend, backend, capture, None)


def proxy_steerable(
    frontend: Socket,
    backend: Socket,
    capture: Socket | None = None,
    control: Socket | None = None,
) -> None:
    """:func:`proxy`, also obeying PAUSE/RESUME/TERMINATE/STATISTICS on ``control``."""
    _run(frontend, backend, capture, control)


def device(device_type: int, frontend: Socket, backend: Socket) -> None:
    """Run :func:`proxy` under its pre-3.2 name (``device_type`` is ignored, as in libzmq)."""
    _run(frontend, backend, None, None)


def _run(frontend: Socket, backend: Socket, capture: Socket | None, control: Socket | None) -> None:
    front, back = _Side(frontend), _Side(backend)
    traffic = Poller()
    traffic.register(frontend, PollEvent.POLLIN)
    if backend is not frontend:
        traffic.register(backend, PollEvent.POLLIN)
    if control is not None:
        traffic.register(control, PollEvent.POLLIN)
    steering = Poller()
    if control is not None:
        steering.register(control, PollEvent.POLLIN)
    paused = False
    while True:
        # While paused only the control socket is watched: waiting traffic must not spin us.
        events = dict((steering if paused else traffic).poll())
        if control is not None and control in events:
            command = control.recv()
            if command == b"PAUSE":
                paused = True
            elif command == b"RESUME":
                paused = False
            elif command == b"TERMINATE":
                return
            elif command == b"STATISTICS":
                counters = front.counters + back.counters
                control.send_multipart([_COUNTER.pack(value) for value in counters])
            continue
        if frontend in events:
            _forward(front, back, capture)
        if backend is not frontend and backend in events:
            _forward(back, front, capture)


def _forward(source: _Side, target: _Side, capture: Socket | None) -> None:
    """Forward what ``source`` holds, up to libzmq's burst of 1000 messages per turn.

    One poll per message would cost more than the message; the bound keeps the other side and
    the control socket served.
    """
    for _ in range(_BURST):
        try:
            message = source.received()
        except Again:
            return
        if capture is not None:
            capture.send_multipart(message)
        target.send(message)
