"""Worker processes: one side of one benchmark, for either library.

The runner starts :func:`worker_main` in a fresh interpreter (multiprocessing "spawn"), so a
worker inherits nothing from the runner and zmtp and pyzmq run this very code: the library is
only a module name (``"zmtp"`` or ``"zmq"``) in the :class:`WorkerSpec`. A worker keeps its
sockets connected and answers commands on a control pipe, so connection set-up is paid once and
each round times the steady state only.

Every wait is bounded: sockets get RCVTIMEO/SNDTIMEO of ``stall_ms``, so a stalled benchmark
raises ``Again`` here and the runner reports it instead of hanging; a worker whose runner has
gone away exits after ``IDLE_LIMIT_S`` without a command.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import inspect
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from zmtp import curve_crypto, z85
from zmtp.curve_keys import curve_public

IDLE_LIMIT_S = 600.0
# PUB/SUB topics: subscribers filter on HIT, the publisher alternates HIT and MISS, so the filter
# matches exactly half of the messages.
HIT = b"hit."
MISS = b"miss"


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker process does; small and picklable, it crosses the spawn boundary."""

    role: str  # a key of ROLES
    library: str  # "zmtp" or "zmq": the module under test
    address: str  # binders bind here (tcp port "*" is ephemeral); connectors connect here
    size: int = 16  # message size in bytes
    api: str = "blocking"  # or "asyncio": the library's asyncio module makes the context
    stall_ms: int = 20_000  # RCVTIMEO/SNDTIMEO: longer than this without progress is a stall
    mechanism: str = "null"  # security mechanism; see secure()


def _bench_key(name: bytes) -> tuple[bytes, bytes]:
    """A fixed (public, secret) Z85 key pair, the same in every worker process.

    Benchmark keys protect nothing; deriving them from a name spares passing them around.
    """
    secret = z85.encode(hashlib.sha256(b"zmtp bench " + name).digest())
    return curve_public(secret), secret


def secure(sock: Any, mechanism: str, *, server: bool) -> None:
    """Apply the security mechanism to a socket before it binds or connects (both libraries)."""
    if mechanism == "null":
        return
    kind, _, backend = mechanism.partition("-")
    if kind != "curve":
        raise ValueError(f"unknown security mechanism {mechanism!r}")
    if type(sock).__module__.startswith("zmtp"):
        curve_crypto.use_backend(backend)
    server_public, server_secret = _bench_key(b"server")
    if server:
        sock.curve_server = True
        sock.curve_secretkey = server_secret
        return
    public, secret = _bench_key(b"client")
    sock.curve_serverkey = server_public
    sock.curve_publickey = public
    sock.curve_secretkey = secret


class Role:
    """One worker's context and sockets; subclasses answer commands with ``do_<name>``."""

    def __init__(self, spec: WorkerSpec, control: Connection) -> None:
        self.spec = spec
        self.control = control
        self.zmq = importlib.import_module(spec.library)
        self.context: Any = None
        self.sockets: list[Any] = []
        self.payload = b"x" * spec.size
        self.endpoint = ""

    def open_context(self) -> None:
        """Create the context: the asyncio module's Context makes awaitable sockets."""
        factory = self.zmq
        if self.spec.api == "asyncio":
            factory = importlib.import_module(self.spec.library + ".asyncio")
        self.context = factory.Context()

    def socket(self, kind: str, *, bind: bool, hwm: int | None = None, address: str = "") -> Any:
        """Open, configure, then bind or connect a socket.

        Options go before bind/connect because libzmq fixes a pipe's HWM when the pipe is made.
        """
        zmq = self.zmq
        sock = self.context.socket(getattr(zmq, kind))
        self.sockets.append(sock)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, self.spec.stall_ms)
        sock.setsockopt(zmq.SNDTIMEO, self.spec.stall_ms)
        if hwm is not None:
            sock.setsockopt(zmq.SNDHWM, hwm)
            sock.setsockopt(zmq.RCVHWM, hwm)
        secure(sock, self.spec.mechanism, server=bind)
        if bind:
            sock.bind(address or self.spec.address)
            endpoint = sock.last_endpoint
            self.endpoint = endpoint.decode() if isinstance(endpoint, bytes) else str(endpoint)
        else:
            sock.connect(address or self.spec.address)
        return sock

    def setup(self) -> Any:
        """Create the context and sockets (may be a coroutine for asyncio roles)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close everything without lingering: nothing is in flight between rounds."""
        for sock in self.sockets:
            sock.close(linger=0)
        if self.context is not None:
            self.context.term()

    def deadline(self) -> float:
        """When a loop that polls (rather than blocks) must give up."""
        return time.monotonic() + self.spec.stall_ms / 1000


# -- PUSH -> PULL ----------------------------------------------------------------------------


def timed_receive(recv: Callable[[], bytes], count: int, size: int) -> dict[str, float]:
    """Receive ``count`` messages, timing from the first to the last (count - 1 intervals).

    Starting the clock at the first message leaves connection and scheduling latency out.
    """
    recv()
    start = time.perf_counter()
    last = b""
    for _ in range(count - 1):
        last = recv()
    elapsed = time.perf_counter() - start
    if count > 1 and len(last) != size:
        raise RuntimeError(f"received a {len(last)}-byte message, expected {size}")
    return {"elapsed": elapsed, "rate": (count - 1) / elapsed if elapsed > 0 else 0.0}


class PullReceiver(Role):
    """Binds a PULL socket and times the arrival of ``count`` messages."""

    def setup(self) -> Any:
        self.open_context()
        self.sock = self.socket("PULL", bind=True)

    def do_run(self, count: int) -> Any:
        return timed_receive(self.sock.recv, count, self.spec.size)


class PushSender(Role):
    """Connects a PUSH socket and sends ``count`` messages as fast as send() allows."""

    def setup(self) -> Any:
        self.open_context()
        self.sock = self.socket("PUSH", bind=False)

    def do_run(self, count: int) -> Any:
        send, payload = self.sock.send, self.payload
        for _ in range(count):
            send(payload)
        return {}


class AsyncPullReceiver(PullReceiver):
    """PULL with awaited recv: the asyncio API's overhead is what this measures."""

    async def setup(self) -> Any:
        super().setup()

    async def do_run(self, count: int) -> Any:
        recv = self.sock.recv
        await recv()
        start = time.perf_counter()
        for _ in range(count - 1):
            await recv()
        elapsed = time.perf_counter() - start
        return {"elapsed": elapsed, "rate": (count - 1) / elapsed if elapsed > 0 else 0.0}


class AsyncPushSender(PushSender):
    """PUSH with awaited send."""

    async def setup(self) -> Any:
        super().setup()

    async def do_run(self, count: int) -> Any:
        send, payload = self.sock.send, self.payload
        for _ in range(count):
            await send(payload)
        return {}


class InprocPair(Role):
    """inproc needs one context, so both ends live here: the sender in a thread."""

    def setup(self) -> Any:
        self.open_context()
        self.pull = self.socket("PULL", bind=True)
        self.push = self.socket("PUSH", bind=False, address=self.endpoint)

    def do_run(self, count: int) -> Any:
        failures: list[BaseException] = []

        def send_all() -> None:
            try:
                send, payload = self.push.send, self.payload
                for _ in range(count):
                    send(payload)
            except BaseException as exc:  # reported by the receiving thread
                failures.append(exc)

        sender = threading.Thread(target=send_all, name="bench-inproc-sender", daemon=True)
        sender.start()
        try:
            result = timed_receive(self.pull.recv, count, self.spec.size)
        finally:
            sender.join(self.spec.stall_ms / 1000)
        if failures:
            raise failures[0]
        if sender.is_alive():
            raise TimeoutError("the inproc sender thread did not finish")
        return result


# -- REQ <-> REP -----------------------------------------------------------------------------


def percentiles(samples_ns: list[int], elapsed: float) -> dict[str, float]:
    """Median and p99 of round trips, in microseconds (nearest-rank, no interpolation)."""
    ordered = sorted(samples_ns)
    n = len(ordered)
    p99_rank = max(0, min(n - 1, -(-99 * n // 100) - 1))
    return {
        "elapsed": elapsed,
        "median": ordered[n // 2] / 1000,
        "p99": ordered[p99_rank] / 1000,
    }


class RepServer(Role):
    """Echoes ``count`` requests."""

    def setup(self) -> Any:
        self.open_context()
        self.sock = self.socket("REP", bind=True)

    def do_run(self, count: int) -> Any:
        send, recv = self.sock.send, self.sock.recv
        for _ in range(count):
            send(recv())
        return {}


class ReqClient(Role):
    """Times ``count`` request/reply round trips one by one."""

    def setup(self) -> Any:
        self.open_context()
        self.sock = self.socket("REQ", bind=False)

    def do_run(self, count: int) -> Any:
        send, recv, payload = self.sock.send, self.sock.recv, self.payload
        clock = time.perf_counter_ns
        samples = [0] * count
        begin = clock()
        for i in range(count):
            start = clock()
            send(payload)
            recv()
            samples[i] = clock() - start
        return percentiles(samples, (clock() - begin) / 1e9)


class AsyncRepServer(RepServer):
    """REP with awaited send and recv."""

    async def setup(self) -> Any:
        super().setup()

    async def do_run(self, count: int) -> Any:
        send, recv = self.sock.send, self.sock.recv
        for _ in range(count):
            await send(await recv())
        return {}


class AsyncReqClient(ReqClient):
    """REQ with awaited send and recv."""

    async def setup(self) -> Any:
        super().setup()

    async def do_run(self, count: int) -> Any:
        send, recv, payload = self.sock.send, self.sock.recv, self.payload
        clock = time.perf_counter_ns
        samples = [0] * count
        begin = clock()
        for i in range(count):
            start = clock()
            await send(payload)
            await recv()
            samples[i] = clock() - start
        return percentiles(samples, (clock() - begin) / 1e9)


# -- PUB -> SUB ------------------------------------------------------------------------------


class Publisher(Role):
    """Binds a PUB socket; HWM 0 (unbounded) so no message is dropped and counts are exact."""

    def setup(self) -> Any:
        if self.spec.size < len(HIT):
            raise ValueError(f"PUB/SUB messages need at least {len(HIT)} bytes for the topic")
        self.open_context()
        self.sock = self.socket("PUB", bind=True, hwm=0)

    def do_sync(self, _: Any) -> Any:
        """Publish probes until the runner says every subscriber saw one ("endsync").

        Subscriptions reach a PUB asynchronously; without this the first round would lose
        messages to subscribers whose SUBSCRIBE had not arrived yet.
        """
        probe, deadline, sent = HIT + b"sync", self.deadline(), 0
        while not self.control.poll(0.005):
            self.sock.send(probe)
            sent += 1
            if time.monotonic() > deadline:
                raise TimeoutError("subscribers did not confirm the probe messages in time")
        command = self.control.recv()
        if command[0] != "endsync":
            raise RuntimeError(f"expected endsync during sync, got {command[0]!r}")
        return {"probes": sent}

    def do_run(self, count: int) -> Any:
        send = self.sock.send
        body = self.payload[len(HIT) :]
        hit, miss = HIT + body, MISS + body
        for _ in range(count // 2):
            send(hit)
            send(miss)
        return {}


class Subscriber(Role):
    """Connects a SUB socket filtered on HIT and times its share of a round."""

    def setup(self) -> Any:
        self.open_context()
        self.sock = self.socket("SUB", bind=False, hwm=0)
        self.sock.setsockopt(self.zmq.SUBSCRIBE, HIT)

    def do_sync(self, _: Any) -> Any:
        self.sock.recv()
        return {}

    def do_drain(self, _: Any) -> Any:
        """Discard leftover probes: quiet for 100 ms means the stream is empty."""
        drained, deadline = 0, self.deadline()
        while self.sock.poll(100):
            self.sock.recv()
            drained += 1
            if time.monotonic() > deadline:
                raise TimeoutError("the publisher kept sending after the sync ended")
        return {"drained": drained}

    def do_run(self, count: int) -> Any:
        """Receive ``count`` messages; report monotonic (system-wide) first and last times."""
        recv = self.sock.recv
        recv()
        first = time.monotonic()
        last = HIT
        for _ in range(count - 1):
            last = recv()
        end = time.monotonic()
        if not last.startswith(HIT):
            raise RuntimeError("the topic filter let through a message it should have dropped")
        return {"first": first, "last": end, "count": count}


ROLES: dict[str, type[Role]] = {
    "pull": PullReceiver,
    "push": PushSender,
    "inproc": InprocPair,
    "rep": RepServer,
    "req": ReqClient,
    "pub": Publisher,
    "sub": Subscriber,
    "pull-asyncio": AsyncPullReceiver,
    "push-asyncio": AsyncPushSender,
    "rep-asyncio": AsyncRepServer,
    "req-asyncio": AsyncReqClient,
}


async def _settle(value: Any) -> Any:
    """Await ``value`` if an asyncio role returned a coroutine; blocking roles return values."""
    if inspect.isawaitable(value):
        return await value
    return value


async def _serve(spec: WorkerSpec, control: Connection) -> None:
    """Answer commands until "stop", a broken pipe, or IDLE_LIMIT_S of silence.

    Runs inside an event loop for both APIs so there is one code path; the blocking roles
    simply never yield to it, and the asyncio roles create their sockets inside it. Any
    failure, the library's import included, goes back to the runner as an error message.
    """
    role: Role | None = None
    try:
        role = ROLES[spec.role](spec, control)
        await _settle(role.setup())
        control.send(("ready", role.endpoint))
        while control.poll(IDLE_LIMIT_S):
            name, argument = control.recv()
            if name == "stop":
                break
            result = await _settle(getattr(role, "do_" + name)(argument))
            control.send(("ok", result))
    except Exception as exc:
        message = f"{spec.role} ({spec.library}): {type(exc).__name__}: {exc}"
        detail = traceback.format_exc(limit=4)
        with contextlib.suppress(OSError):  # the runner is gone; nobody to tell
            control.send(("error", f"{message}\n{detail}"))
    finally:
        if role is not None:
            role.close()


def worker_main(spec: WorkerSpec, control: Connection) -> None:
    """Entry point of a worker process."""
    try:
        asyncio.run(_serve(spec, control))
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group; the runner reports it
    finally:
        control.close()
