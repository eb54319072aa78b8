"""The libzmq side of the interop suite: a small program that drives pyzmq sockets on command.

Run as ``python interop/peer.py``. It reads one JSON command per line on stdin and writes one
JSON answer per line on stdout (see control.py for how frames and option values are encoded).
It never imports zmtp: the point of running it as its own process is that libzmq and zmtp
never share an interpreter, a GIL or an event loop, as in a real deployment.

Commands (every one may carry ``"id"``, echoed back so a late answer cannot be mistaken for
the answer to a later command)::

    {"op": "hello"}                                  -> libzmq and pyzmq versions, pid
    {"op": "socket", "type": "ROUTER", "options": [["LINGER", 0], ...]}   -> {"sock": n}
    {"op": "setsockopt" | "getsockopt", "sock": n, "option": "SUBSCRIBE", "value": ...}
    {"op": "bind" | "connect" | "unbind" | "disconnect", "sock": n, "endpoint": "..."}
    {"op": "send", "sock": n, "frames": [...], "timeout": ms}
    {"op": "send_many", "sock": n, "frames": [...], "count": k, "start": i, "timeout": ms}
    {"op": "recv", "sock": n, "timeout": ms, "inline_max": bytes}
    {"op": "recv_many", "sock": n, "count": k, "timeout": ms, "idle": ms}
    {"op": "poll", "socks": [n, ...], "timeout": ms}     -> {"readable": [n, ...]}
    {"op": "monitor", "sock": n}          start collecting the socket's monitor events
    {"op": "events", "sock": n, "until": "HANDSHAKE_SUCCEEDED", "count": k, "timeout": ms}
    {"op": "close", "sock": n}  {"op": "reset"}  {"op": "exit"}

Options are named as in libzmq (``ROUTING_ID``, ``HEARTBEAT_IVL``, later ``CURVE_SERVER``...),
so new mechanisms need no new command. Failures answer ``{"ok": false, "error": "EAGAIN",
"errno": 11, "message": ...}``.

Between commands the program keeps calling into every socket (``getsockopt(EVENTS)``): a
libzmq socket attaches a new connection, and sends its subscriptions on it, only when its
owner calls in (ZMTP-NOTES section 8), and a real application would be calling in. Monitor
events are collected at the same time, with the time they were seen (CLOCK_MONOTONIC, which
the test process shares), so heartbeat tests can measure how long a detection took.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import traceback
from typing import Any

import zmq
from control import (
    INLINE_MAX,
    decode_frame,
    decode_value,
    dumps,
    encode_received,
    encode_value,
)
from zmq.utils.monitor import recv_monitor_message

POKE_S = 0.02
"""How often idle sockets are called into, and monitors drained (seconds)."""


class Peer:
    """The sockets of one peer process and the commands on them."""

    def __init__(self) -> None:
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.sockets: dict[int, zmq.Socket[bytes]] = {}
        self.monitors: dict[int, zmq.Socket[bytes]] = {}
        self.events: dict[int, list[tuple[str, int, str, float]]] = {}
        self.next_id = 1

    # -- the idle loop -------------------------------------------------------------------------

    def poke(self) -> None:
        """Call into every socket (attach pending pipes) and collect monitor events."""
        for sock in self.sockets.values():
            sock.getsockopt(zmq.EVENTS)
        self.drain_monitors()

    def drain_monitors(self) -> None:
        for sock_id, monitor in self.monitors.items():
            while monitor.poll(0, zmq.POLLIN):
                event = recv_monitor_message(monitor, zmq.NOBLOCK)
                name = zmq.Event(event["event"]).name or str(event["event"])
                endpoint = event["endpoint"].decode(errors="replace")
                self.events[sock_id].append((name, event["value"], endpoint, time.monotonic()))

    # -- commands ------------------------------------------------------------------------------

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        method = getattr(self, f"op_{op}", None)
        if method is None:
            return {"ok": False, "error": "EINVAL", "message": f"unknown op {op!r}"}
        try:
            answer: dict[str, Any] = method(command)
        except zmq.ZMQError as exc:
            try:
                name = zmq.Errno(exc.errno or 0).name or str(exc.errno)
            except ValueError:
                name = str(exc.errno)
            return {"ok": False, "error": name, "errno": exc.errno, "message": str(exc)}
        except Exception as exc:  # the test side must see every failure, as a failed answer
            return {
                "ok": False,
                "error": type(exc).__name__,
                "message": "".join(traceback.format_exception(exc)),
            }
        answer.setdefault("ok", True)
        return answer

    def sock(self, command: dict[str, Any]) -> zmq.Socket[bytes]:
        return self.sockets[int(command["sock"])]

    def op_hello(self, command: dict[str, Any]) -> dict[str, Any]:
        return {"libzmq": zmq.zmq_version(), "pyzmq": zmq.__version__, "pid": os.getpid()}

    def op_socket(self, command: dict[str, Any]) -> dict[str, Any]:
        sock = self.context.socket(getattr(zmq, command["type"]))
        sock_id = self.next_id
        self.next_id += 1
        self.sockets[sock_id] = sock
        for name, value in command.get("options", []):
            sock.setsockopt(getattr(zmq, name), _option(value))
        return {"sock": sock_id}

    def op_setsockopt(self, command: dict[str, Any]) -> dict[str, Any]:
        self.sock(command).setsockopt(getattr(zmq, command["option"]), _option(command["value"]))
        return {}

    def op_getsockopt(self, command: dict[str, Any]) -> dict[str, Any]:
        value = self.sock(command).getsockopt(getattr(zmq, command["option"]))
        return {"value": encode_value(value)}

    def op_bind(self, command: dict[str, Any]) -> dict[str, Any]:
        sock = self.sock(command)
        sock.bind(command["endpoint"])
        return {"endpoint": sock.getsockopt_string(zmq.LAST_ENDPOINT)}

    def op_connect(self, command: dict[str, Any]) -> dict[str, Any]:
        self.sock(command).connect(command["endpoint"])
        return {}

    def op_unbind(self, command: dict[str, Any]) -> dict[str, Any]:
        self.sock(command).unbind(command["endpoint"])
        return {}

    def op_disconnect(self, command: dict[str, Any]) -> dict[str, Any]:
        self.sock(command).disconnect(command["endpoint"])
        return {}

    def _send(self, sock: zmq.Socket[bytes], frames: list[bytes], timeout: int) -> bool:
        """Send one message within ``timeout`` ms; False if it would still block."""
        if timeout > 0 and not sock.poll(timeout, zmq.POLLOUT):
            return False
        try:
            sock.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            return False
        return True

    def op_send(self, command: dict[str, Any]) -> dict[str, Any]:
        frames = [decode_frame(frame) for frame in command["frames"]]
        if not self._send(self.sock(command), frames, int(command.get("timeout", 5000))):
            return {"ok": False, "error": "EAGAIN", "errno": zmq.EAGAIN, "message": "would block"}
        return {}

    def op_send_many(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send numbered copies of a message (first frame ``%08d``) until one would block."""
        sock = self.sock(command)
        frames = [decode_frame(frame) for frame in command["frames"]]
        start = int(command.get("start", 0))
        timeout = int(command.get("timeout", 0))
        sent = 0
        for number in range(start, start + int(command["count"])):
            if not self._send(sock, [b"%08d" % number, *frames], timeout):
                break
            sent += 1
        return {"sent": sent}

    def _recv(self, sock: zmq.Socket[bytes], timeout: int) -> list[bytes] | None:
        if not sock.poll(timeout, zmq.POLLIN):
            return None
        return sock.recv_multipart(zmq.NOBLOCK)

    def op_recv(self, command: dict[str, Any]) -> dict[str, Any]:
        frames = self._recv(self.sock(command), int(command.get("timeout", 5000)))
        if frames is None:
            return {"ok": False, "error": "EAGAIN", "errno": zmq.EAGAIN, "message": "timed out"}
        inline_max = int(command.get("inline_max", INLINE_MAX))
        return {"frames": [encode_received(frame, inline_max) for frame in frames]}

    def op_recv_many(self, command: dict[str, Any]) -> dict[str, Any]:
        """Receive up to ``count`` messages; stop at ``timeout`` or after ``idle`` ms of quiet."""
        sock = self.sock(command)
        deadline = time.monotonic() + int(command.get("timeout", 5000)) / 1000
        idle = int(command.get("idle", 200))
        inline_max = int(command.get("inline_max", INLINE_MAX))
        messages: list[list[Any]] = []
        while len(messages) < int(command["count"]):
            remaining = int((deadline - time.monotonic()) * 1000)
            if remaining <= 0:
                break
            frames = self._recv(sock, min(idle, remaining))
            if frames is None:
                break
            messages.append([encode_received(frame, inline_max) for frame in frames])
        return {"messages": messages}

    def op_poll(self, command: dict[str, Any]) -> dict[str, Any]:
        """Which of ``socks`` have a message waiting, after up to ``timeout`` ms."""
        poller = zmq.Poller()
        for sock_id in command["socks"]:
            poller.register(self.sockets[int(sock_id)], zmq.POLLIN)
        ready = dict(poller.poll(int(command.get("timeout", 0))))
        ids = [i for i in command["socks"] if self.sockets[int(i)] in ready]
        return {"readable": ids}

    def op_monitor(self, command: dict[str, Any]) -> dict[str, Any]:
        sock_id = int(command["sock"])
        monitor = self.sockets[sock_id].get_monitor_socket(zmq.EVENT_ALL)
        monitor.setsockopt(zmq.LINGER, 0)
        self.monitors[sock_id] = monitor
        self.events[sock_id] = []
        return {}

    def op_events(self, command: dict[str, Any]) -> dict[str, Any]:
        """Every event seen on the socket so far, after waiting (bounded) for ``until``."""
        sock_id = int(command["sock"])
        until = command.get("until")
        count = int(command.get("count", 1))
        deadline = time.monotonic() + int(command.get("timeout", 0)) / 1000
        while True:
            self.poke()
            seen = self.events[sock_id]
            if until is None or sum(1 for event in seen if event[0] == until) >= count:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.monitors[sock_id].poll(int(min(remaining, POKE_S) * 1000) + 1, zmq.POLLIN)
        return {"events": [list(event) for event in self.events[sock_id]], "now": time.monotonic()}

    def close(self, sock_id: int) -> None:
        monitor = self.monitors.pop(sock_id, None)
        sock = self.sockets.pop(sock_id)
        if monitor is not None:
            sock.disable_monitor()
            monitor.close(linger=0)
        sock.close(linger=0)

    def op_close(self, command: dict[str, Any]) -> dict[str, Any]:
        self.close(int(command["sock"]))
        return {}

    def op_reset(self, command: dict[str, Any]) -> dict[str, Any]:
        """Close every socket: the next test starts from nothing, in the same process."""
        for sock_id in list(self.sockets):
            self.close(sock_id)
        self.events.clear()
        return {}


def _option(value: Any) -> int | bytes:
    """An option value for pyzmq: text options travel as str and are set as UTF-8 bytes."""
    decoded = decode_value(value)
    return decoded.encode() if isinstance(decoded, str) else decoded


def _read_lines(lines: queue.Queue[bytes | None]) -> None:
    """Feed stdin lines to the main thread, which alone touches the sockets."""
    for line in sys.stdin.buffer:
        lines.put(line)
    lines.put(None)


def main() -> None:
    lines: queue.Queue[bytes | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(lines,), daemon=True).start()
    out = sys.stdout.buffer
    peer = Peer()
    try:
        while True:
            try:
                line = lines.get(timeout=POKE_S)
            except queue.Empty:
                peer.poke()
                continue
            if line is None:
                break
            command = json.loads(line)
            if command["op"] == "exit":
                out.write(dumps({"ok": True, "id": command.get("id")}))
                out.flush()
                break
            answer = peer.handle(command)
            answer["id"] = command.get("id")
            out.write(dumps(answer))
            out.flush()
    finally:
        peer.op_reset({})
        peer.context.term()
        out.flush()
        # The stdin reader thread may be blocked in read(); interpreter shutdown would wait
        # on its buffer lock, so leave at once: every socket is closed already.
        os._exit(0)


if __name__ == "__main__":
    main()
