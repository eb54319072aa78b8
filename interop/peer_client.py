"""The test side of the control channel: start peer.py, send it commands, read its answers.

:class:`PeerProcess` owns one ``python interop/peer.py`` subprocess; :class:`RemoteSocket` is
a handle on one libzmq socket inside it. Every answer is awaited with a deadline (the
command's own timeout plus :data:`MARGIN_S`), so a frozen (SIGSTOPped), crashed or wedged
peer fails the test with the peer's stderr instead of hanging it.

This module never imports pyzmq: libzmq runs only in the peer process.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control import (
    Digest,
    Payload,
    decode_received,
    decode_value,
    dumps,
    encode_frame,
    encode_value,
)

PEER_SCRIPT = Path(__file__).with_name("peer.py")
STARTUP_S = 20.0
"""How long a peer may take to import pyzmq and answer ``hello`` (a loaded CI machine)."""
MARGIN_S = 5.0
"""Added to a command's own timeout to bound the wait for its answer."""

Frame = bytes | Digest
"""A frame received by the peer: its bytes, or its digest when it is large."""


class PeerError(Exception):
    """A command failed inside the peer; ``error`` is libzmq's errno name (``EAGAIN``...)."""

    def __init__(self, op: str, answer: dict[str, Any]) -> None:
        self.op = op
        self.error = str(answer.get("error"))
        self.errno = answer.get("errno")
        super().__init__(f"peer {op}: {self.error}: {answer.get('message')}")


class PeerGone(Exception):
    """The peer process died or stopped answering."""


@dataclass(frozen=True)
class MonitorEvent:
    """One libzmq monitor event as the peer saw it, with the peer's CLOCK_MONOTONIC time."""

    name: str
    value: int
    endpoint: str
    time: float


class PeerProcess:
    """One libzmq peer process and its control channel."""

    def __init__(self, argv: Sequence[str] | None = None) -> None:
        self.argv = list(argv or [sys.executable, "-u", str(PEER_SCRIPT)])
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=PEER_SCRIPT.parent,
        )
        assert self.process.stdout is not None
        self._out = self.process.stdout.fileno()
        os.set_blocking(self._out, False)
        self._buffer = b""
        self._next_id = 0
        self.frozen = False
        hello = self.request("hello", wait_s=STARTUP_S)
        self.libzmq_version: str = hello["libzmq"]
        self.pyzmq_version: str = hello["pyzmq"]
        self.pid: int = hello["pid"]

    # -- the channel ---------------------------------------------------------------------------

    def request(self, op: str, *, wait_s: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send one command and return its answer; raise PeerError if it failed."""
        self._next_id += 1
        command_id = self._next_id
        timeout_ms = fields.get("timeout", 0)
        deadline = time.monotonic() + (wait_s or timeout_ms / 1000 + MARGIN_S)
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(dumps({"op": op, "id": command_id, **fields}))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise PeerGone(f"peer is gone ({exc}); stderr:\n{self.stderr()}") from None
        while True:
            answer = self._read_answer(deadline, op)
            if answer.get("id") == command_id:
                break  # an older id is the late answer to a command that timed out: skip it
        if not answer.get("ok"):
            raise PeerError(op, answer)
        return answer

    def _read_answer(self, deadline: float, op: str) -> dict[str, Any]:
        with selectors.DefaultSelector() as selector:
            selector.register(self._out, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PeerGone(f"peer did not answer {op!r} in time; stderr:\n{self.stderr()}")
                if not selector.select(remaining):
                    continue
                chunk = os.read(self._out, 1 << 20)
                if not chunk:
                    code = self.process.poll()
                    raise PeerGone(f"peer exited ({code}) during {op!r}; stderr:\n{self.stderr()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stderr(self) -> str:
        """What the peer wrote to stderr so far (its tracebacks), for failure messages."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    # -- sockets -------------------------------------------------------------------------------

    def socket(self, type_name: str, options: Sequence[tuple[str, Any]] = ()) -> RemoteSocket:
        """Create a libzmq socket of ``type_name`` (``"ROUTER"``), options set in order."""
        opts = [[name, encode_value(value)] for name, value in options]
        answer = self.request("socket", type=type_name, options=opts)
        return RemoteSocket(self, int(answer["sock"]), type_name)

    def reset(self) -> None:
        """Close every socket in the peer (between tests sharing the process)."""
        self.request("reset")

    # -- the process ---------------------------------------------------------------------------

    def freeze(self) -> None:
        """SIGSTOP the peer: its libzmq stops reading, writing and heartbeating."""
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        """SIGCONT a frozen peer."""
        if self.frozen:
            os.kill(self.process.pid, signal.SIGCONT)
            self.frozen = False

    def kill(self) -> None:
        """SIGKILL the peer: its connections die without a goodbye, as in a crash."""
        self.thaw()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(timeout=10)

    def close(self) -> None:
        """Ask the peer to exit; kill it if it does not within a few seconds."""
        try:
            if self.process.poll() is None:
                self.thaw()
                with contextlib.suppress(PeerGone, PeerError):
                    self.request("exit", wait_s=5)
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.kill()
        finally:
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self._stderr.close()


class RemoteSocket:
    """One libzmq socket in a peer process; the methods mirror pyzmq's, bounded."""

    def __init__(self, peer: PeerProcess, sock_id: int, type_name: str) -> None:
        self.peer = peer
        self.id = sock_id
        self.type_name = type_name

    def _call(self, op: str, **fields: Any) -> dict[str, Any]:
        return self.peer.request(op, sock=self.id, **fields)

    def setsockopt(self, option: str, value: bytes | int | str) -> None:
        self._call("setsockopt", option=option, value=encode_value(value))

    def getsockopt(self, option: str) -> bytes | int | str:
        return decode_value(self._call("getsockopt", option=option)["value"])

    def bind(self, endpoint: str) -> str:
        """Bind and return the resolved endpoint (LAST_ENDPOINT)."""
        return str(self._call("bind", endpoint=endpoint)["endpoint"])

    def connect(self, endpoint: str) -> None:
        self._call("connect", endpoint=endpoint)

    def unbind(self, endpoint: str) -> None:
        self._call("unbind", endpoint=endpoint)

    def disconnect(self, endpoint: str) -> None:
        self._call("disconnect", endpoint=endpoint)

    def send(self, frames: Sequence[bytes | Payload], timeout_ms: int) -> None:
        """Send one message, waiting up to ``timeout_ms`` for room; PeerError EAGAIN if none."""
        self._call("send", frames=[encode_frame(f) for f in frames], timeout=timeout_ms)

    def send_many(
        self, frames: Sequence[bytes | Payload], count: int, start: int = 0, timeout_ms: int = 0
    ) -> int:
        """Send numbered messages (``%08d`` + frames) until one would block; return how many."""
        encoded = [encode_frame(f) for f in frames]
        answer = self._call(
            "send_many", frames=encoded, count=count, start=start, timeout=timeout_ms
        )
        return int(answer["sent"])

    def recv(self, timeout_ms: int) -> list[Frame]:
        """Receive one message within ``timeout_ms``; PeerError EAGAIN if none came."""
        return [decode_received(f) for f in self._call("recv", timeout=timeout_ms)["frames"]]

    def recv_many(self, count: int, timeout_ms: int, idle_ms: int) -> list[list[Frame]]:
        """Up to ``count`` messages; stops after ``idle_ms`` without one, or at ``timeout_ms``."""
        answer = self._call("recv_many", count=count, timeout=timeout_ms, idle=idle_ms)
        return [[decode_received(f) for f in message] for message in answer["messages"]]

    def monitor(self) -> None:
        """Start collecting this socket's monitor events in the peer."""
        self._call("monitor")

    def events(
        self, until: str | None = None, count: int = 1, timeout_ms: int = 0
    ) -> list[MonitorEvent]:
        """Every monitor event so far, after waiting up to ``timeout_ms`` for ``count`` of
        ``until``."""
        answer = self._call("events", until=until, count=count, timeout=timeout_ms)
        return [MonitorEvent(str(n), int(v), str(e), float(t)) for n, v, e, t in answer["events"]]

    def close(self) -> None:
        self._call("close")
