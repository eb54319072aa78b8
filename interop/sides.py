"""Both ends of an interop test behind one interface, with a transcript of what each did.

A check is written once against :class:`End` and runs whether the zmtp socket or the libzmq
socket plays a given role. Every send, receive and timeout on either side is written to a
:class:`Transcript`, so a failing cell shows what each side sent and received, in order, not
only which assertion broke.

``ZmtpEnd`` wraps a ``zmtp.Socket`` in this process; ``LibzmqEnd`` wraps a socket in the peer
process (peer_client.py). Frames come back as bytes, or as a :class:`control.Digest` for the
large ones; compare them with :func:`same_message`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from control import Digest, Payload, fingerprint, show_message
from peer_client import Frame, MonitorEvent, PeerError, RemoteSocket

import zmtp
from zmtp.monitor import recv_monitor_message

WAIT_S = 5.0
"""Default bound of every wait on either side (seconds)."""


class CheckFailed(AssertionError):
    """A semantic check failed; the message says what was expected and what happened."""


@dataclass
class Transcript:
    """What each side did, in order, with times relative to the start of the test."""

    start: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)

    def add(self, who: str, what: str) -> None:
        self.lines.append(f"{time.monotonic() - self.start:8.3f}s  {who:<22} {what}")

    def render(self, last: int = 80) -> str:
        lines = self.lines[-last:]
        skipped = len(self.lines) - len(lines)
        head = [f"   ... {skipped} earlier lines ..."] if skipped else []
        return "\n".join(head + lines)


def same_message(got: Sequence[Frame], expected: Sequence[bytes | Payload | Digest]) -> bool:
    """Whether a received message equals the expected one (large frames by digest)."""
    return [fingerprint(f) for f in got] == [fingerprint(f) for f in expected]


def expect_message(
    got: Sequence[Frame], expected: Sequence[bytes | Payload | Digest], what: str
) -> None:
    """Fail with both messages shown unless ``got`` equals ``expected``."""
    if not same_message(got, expected):
        raise CheckFailed(
            f"{what}: expected {show_message(list(expected))}, got {show_message(list(got))}"
        )


class End:
    """One socket of a test, zmtp's or libzmq's."""

    label: str
    kind: str
    is_zmtp: bool

    def send(self, frames: Sequence[bytes | Payload], timeout: float = WAIT_S) -> None:
        raise NotImplementedError

    def try_send(self, frames: Sequence[bytes | Payload], timeout: float = 0.0) -> bool:
        """Send unless it would still block after ``timeout`` (then False, nothing sent)."""
        raise NotImplementedError

    def try_recv(self, timeout: float) -> list[Frame] | None:
        raise NotImplementedError

    def recv(self, timeout: float = WAIT_S) -> list[Frame]:
        message = self.try_recv(timeout)
        if message is None:
            raise CheckFailed(f"{self.label} received nothing within {timeout} s")
        return message

    def recv_many(
        self, count: int, timeout: float = WAIT_S, idle: float | None = None
    ) -> list[list[Frame]]:
        """Up to ``count`` messages; stop at ``timeout``, or after ``idle`` s without one."""
        raise NotImplementedError

    def recv_nothing(self, within: float) -> None:
        """Fail if a message arrives within ``within`` seconds."""
        message = self.try_recv(within)
        if message is not None:
            raise CheckFailed(f"{self.label} received {show_message(message)}; expected nothing")

    def set(self, option: str, value: Any) -> None:
        raise NotImplementedError

    def get(self, option: str) -> Any:
        raise NotImplementedError

    def bind(self, endpoint: str) -> str:
        raise NotImplementedError

    def connect(self, endpoint: str) -> None:
        raise NotImplementedError

    def disconnect(self, endpoint: str) -> None:
        raise NotImplementedError

    def handshakes(self, count: int, timeout: float = WAIT_S) -> None:
        """Wait until this socket's monitor has reported ``count`` HANDSHAKE_SUCCEEDED."""
        raise NotImplementedError

    def events(self) -> list[str]:
        """Names of the monitor events seen so far."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class ZmtpEnd(End):
    """A zmtp socket in this process."""

    is_zmtp = True

    def __init__(self, context: zmtp.Context, kind: str, transcript: Transcript) -> None:
        self.sock = context.socket(getattr(zmtp, kind))
        self.kind = kind
        self.label = f"zmtp {kind}"
        self.transcript = transcript
        self.sock.linger = 0
        self.sock.rcvtimeo = int(WAIT_S * 1000)
        self.sock.sndtimeo = int(WAIT_S * 1000)
        self._monitor = self.sock.get_monitor_socket()
        self._events: list[tuple[str, float]] = []

    def _log(self, what: str) -> None:
        self.transcript.add(self.label, what)

    def try_send(self, frames: Sequence[bytes | Payload], timeout: float = 0.0) -> bool:
        data = [f.build() if isinstance(f, Payload) else f for f in frames]
        if timeout > 0 and not self.sock.poll(int(timeout * 1000), zmtp.POLLOUT):
            self._log(f"could not send {show_message(list(frames))} within {timeout} s")
            return False
        try:
            self.sock.send_multipart(data, zmtp.DONTWAIT)
        except zmtp.Again:
            self._log(f"send {show_message(list(frames))} would block (EAGAIN)")
            return False
        self._log(f"sent {show_message(list(frames))}")
        return True

    def send(self, frames: Sequence[bytes | Payload], timeout: float = WAIT_S) -> None:
        if not self.try_send(frames, timeout):
            raise CheckFailed(f"{self.label} could not send within {timeout} s")

    def try_recv(self, timeout: float) -> list[Frame] | None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            if self.sock.poll(int(remaining * 1000), zmtp.POLLIN):
                try:
                    frames = self.sock.recv_multipart(zmtp.DONTWAIT)
                except zmtp.Again:
                    # Readable, then nothing: a REP dropped a message without an envelope.
                    # libzmq behaves the same way; a caller polls again.
                    continue
                message: list[Frame] = [fingerprint(f) for f in frames]
                self._log(f"received {show_message(message)}")
                return message
            if remaining <= 0:
                self._log(f"received nothing within {timeout} s")
                return None

    def recv_many(
        self, count: int, timeout: float = WAIT_S, idle: float | None = None
    ) -> list[list[Frame]]:
        idle = timeout if idle is None else idle
        deadline = time.monotonic() + timeout
        messages: list[list[Frame]] = []
        while len(messages) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.sock.poll(int(min(idle, remaining) * 1000), zmtp.POLLIN):
                break
            messages.append([fingerprint(f) for f in self.sock.recv_multipart(zmtp.DONTWAIT)])
        self._log(f"received {len(messages)} messages: {_summary(messages)}")
        return messages

    def set(self, option: str, value: Any) -> None:
        # setsockopt, not setattr: "subscribe" is also a method name, setattr would shadow it.
        self.sock.setsockopt(getattr(zmtp, option), value)
        self._log(f"set {option}={value!r}")

    def get(self, option: str) -> Any:
        return self.sock.getsockopt(getattr(zmtp, option))

    def bind(self, endpoint: str) -> str:
        self.sock.bind(endpoint)
        resolved = self.last_endpoint
        self._log(f"bound {resolved}")
        return resolved

    @property
    def last_endpoint(self) -> str:
        """The last bound endpoint (pyzmq returns bytes, older zmtp str: accept both)."""
        value = self.sock.last_endpoint
        return value.decode() if isinstance(value, bytes) else str(value)

    def connect(self, endpoint: str) -> None:
        self.sock.connect(endpoint)
        self._log(f"connecting to {endpoint}")

    def disconnect(self, endpoint: str) -> None:
        self.sock.disconnect(endpoint)
        self._log(f"disconnected from {endpoint}")

    def _drain_events(self, timeout: float) -> None:
        if self._monitor.poll(int(timeout * 1000), zmtp.POLLIN):
            while self._monitor.poll(0, zmtp.POLLIN):
                event = recv_monitor_message(self._monitor, zmtp.DONTWAIT)
                name = zmtp.Event(event["event"]).name or str(event["event"])
                self._events.append((name, time.monotonic()))

    def handshakes(self, count: int, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while self.events().count("HANDSHAKE_SUCCEEDED") < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed(
                    f"{self.label}: {count} handshakes expected within {timeout} s; "
                    f"monitor saw {self.events()}"
                )
            self._drain_events(min(remaining, 0.05))

    def wait_event(self, name: str, timeout: float) -> float | None:
        """Wait for the next ``name`` event not seen before; return when it was seen."""
        seen = sum(1 for event, _ in self._events if event == name)
        deadline = time.monotonic() + timeout
        while True:
            matching = [t for event, t in self._events if event == name]
            if len(matching) > seen:
                return matching[seen]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._drain_events(min(remaining, 0.05))

    def events(self) -> list[str]:
        self._drain_events(0)
        return [name for name, _ in self._events]

    def timed_events(self) -> list[tuple[str, float]]:
        self._drain_events(0)
        return list(self._events)

    def close(self) -> None:
        self._monitor.close(linger=0)
        self.sock.close(linger=0)


class LibzmqEnd(End):
    """A libzmq socket in the peer process."""

    is_zmtp = False

    def __init__(
        self,
        remote: RemoteSocket,
        transcript: Transcript,
        name: str | None = None,
        monitor: bool = True,
    ) -> None:
        self.remote = remote
        self.kind = remote.type_name
        self.label = f"libzmq {name or remote.type_name}"
        self.transcript = transcript
        if monitor:
            remote.monitor()

    def _log(self, what: str) -> None:
        self.transcript.add(self.label, what)

    def try_send(self, frames: Sequence[bytes | Payload], timeout: float = 0.0) -> bool:
        try:
            self.remote.send(frames, int(timeout * 1000))
        except PeerError as exc:
            if exc.error != "EAGAIN":
                raise
            self._log(f"could not send {show_message(list(frames))} within {timeout} s")
            return False
        self._log(f"sent {show_message(list(frames))}")
        return True

    def send(self, frames: Sequence[bytes | Payload], timeout: float = WAIT_S) -> None:
        if not self.try_send(frames, timeout):
            raise CheckFailed(f"{self.label} could not send within {timeout} s")

    def try_recv(self, timeout: float) -> list[Frame] | None:
        try:
            message = self.remote.recv(int(timeout * 1000))
        except PeerError as exc:
            if exc.error != "EAGAIN":
                raise
            self._log(f"received nothing within {timeout} s")
            return None
        self._log(f"received {show_message(message)}")
        return message

    def recv_many(
        self, count: int, timeout: float = WAIT_S, idle: float | None = None
    ) -> list[list[Frame]]:
        idle = timeout if idle is None else idle
        messages = self.remote.recv_many(count, int(timeout * 1000), int(idle * 1000))
        self._log(f"received {len(messages)} messages: {_summary(messages)}")
        return messages

    def set(self, option: str, value: Any) -> None:
        self.remote.setsockopt(option, value)
        self._log(f"set {option}={value!r}")

    def get(self, option: str) -> Any:
        return self.remote.getsockopt(option)

    def bind(self, endpoint: str) -> str:
        resolved = self.remote.bind(endpoint)
        self._log(f"bound {resolved}")
        return resolved

    def connect(self, endpoint: str) -> None:
        self.remote.connect(endpoint)
        self._log(f"connecting to {endpoint}")

    def disconnect(self, endpoint: str) -> None:
        self.remote.disconnect(endpoint)
        self._log(f"disconnected from {endpoint}")

    def handshakes(self, count: int, timeout: float = WAIT_S) -> None:
        events = self.remote.events("HANDSHAKE_SUCCEEDED", count, int(timeout * 1000))
        names = [event.name for event in events]
        if names.count("HANDSHAKE_SUCCEEDED") < count:
            raise CheckFailed(
                f"{self.label}: {count} handshakes expected within {timeout} s; "
                f"its monitor saw {names}"
            )

    def timed_events(
        self, until: str | None = None, timeout: float = 0.0, count: int = 1
    ) -> list[MonitorEvent]:
        """Monitor events so far, after waiting up to ``timeout`` until ``count`` of ``until``
        have been seen in all."""
        return self.remote.events(until, count, int(timeout * 1000))

    def events(self) -> list[str]:
        return [event.name for event in self.remote.events()]

    def close(self) -> None:
        self.remote.close()
        self._log("closed")


def _summary(messages: list[list[Frame]], limit: int = 6) -> str:
    shown = ", ".join(show_message(m) for m in messages[:limit])
    return shown + (f", ... ({len(messages) - limit} more)" if len(messages) > limit else "")
