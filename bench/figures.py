"""What is measured: the catalogue of figures, and how one library's processes measure one.

A *figure* is one benchmark (say, PUSH->PULL over tcp with 16-byte messages); it yields one or
more *metrics* (throughput; or median and p99 latency). A *session* is the set of worker
processes that measure one figure for one library; the runner keeps a zmtp session and a pyzmq
session alive side by side and alternates rounds between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import BenchError, Worker
from bench.workers import WorkerSpec

LIBRARIES = ("zmtp", "zmq")  # zmtp first: the ratio is zmtp / pyzmq
LIBRARY_NAMES = {"zmtp": "zmtp", "zmq": "pyzmq"}

THROUGHPUT_SIZES = (16, 256, 4096, 65536, 1 << 20)
LATENCY_SIZES = (16, 4096)
PUBSUB_SIZE = 16


@dataclass(frozen=True)
class Metric:
    """One number a figure produces; ``higher_is_better`` tells how to read its ratio."""

    key: str  # the key in a Sample's values
    label: str
    unit: str
    higher_is_better: bool


THROUGHPUT = Metric("rate", "throughput", "msg/s", True)
DELIVERED = Metric("rate", "delivered", "msg/s", True)
LAT_MEDIAN = Metric("median", "latency median", "µs", False)
LAT_P99 = Metric("p99", "latency p99", "µs", False)


def size_label(size: int) -> str:
    """16B, 4KiB, 1MiB: short enough for figure ids."""
    if size >= 1 << 20:
        return f"{size >> 20}MiB"
    if size >= 1 << 10:
        return f"{size >> 10}KiB"
    return f"{size}B"


@dataclass(frozen=True)
class Figure:
    """One benchmark; ``pending`` says why it cannot be measured yet (it is then skipped)."""

    id: str
    title: str
    kind: str  # "throughput", "latency", "pubsub"
    transport: str  # "tcp", "ipc", "inproc"
    size: int
    api: str = "blocking"
    subscribers: int = 0
    mechanism: str = "null"
    pending: str = ""

    @property
    def metrics(self) -> tuple[Metric, ...]:
        if self.kind == "latency":
            return (LAT_MEDIAN, LAT_P99)
        if self.kind == "pubsub":
            return (DELIVERED,)
        return (THROUGHPUT,)

    @property
    def initial_count(self) -> int:
        """First calibration count: small enough that the slowest case ends in well under 1 s."""
        if self.kind == "latency":
            return 200
        return max(4, min(1000, (4 << 20) // self.size))


def catalogue() -> list[Figure]:
    """Every figure, in report order; asyncio figures sit right after their blocking twins."""
    figures: list[Figure] = []
    async_throughput = {16, 4096}
    for transport in ("tcp", "ipc", "inproc"):
        for size in THROUGHPUT_SIZES:
            label = size_label(size)
            figures.append(
                Figure(
                    f"thr-{transport}-{label}",
                    f"PUSH→PULL {transport} {label}",
                    "throughput",
                    transport,
                    size,
                )
            )
            if transport == "tcp" and size in async_throughput:
                figures.append(
                    Figure(
                        f"thr-tcp-{label}-asyncio",
                        f"PUSH→PULL tcp {label} asyncio",
                        "throughput",
                        "tcp",
                        size,
                        api="asyncio",
                    )
                )
    for transport in ("tcp", "ipc"):
        for size in LATENCY_SIZES:
            label = size_label(size)
            figures.append(
                Figure(
                    f"lat-{transport}-{label}",
                    f"REQ↔REP {transport} {label}",
                    "latency",
                    transport,
                    size,
                )
            )
            if transport == "tcp" and size == 16:
                figures.append(
                    Figure(
                        f"lat-tcp-{label}-asyncio",
                        f"REQ↔REP tcp {label} asyncio",
                        "latency",
                        "tcp",
                        size,
                        api="asyncio",
                    )
                )
    for subscribers in (1, 4):
        figures.append(
            Figure(
                f"pubsub-tcp-{subscribers}sub",
                f"PUB→SUB tcp {size_label(PUBSUB_SIZE)} to {subscribers}",
                "pubsub",
                "tcp",
                PUBSUB_SIZE,
                subscribers=subscribers,
            )
        )
    # CURVE throughput, for each of zmtp's box backends; pyzmq always uses libsodium.
    for backend, name in (("pynacl", "PyNaCl"), ("python", "pure Python")):
        for size in (16, 64 * 1024):
            label = size_label(size)
            figures.append(
                Figure(
                    f"curve-thr-tcp-{label}-{backend}",
                    f"PUSH→PULL tcp {label} CURVE ({name})",
                    "throughput",
                    "tcp",
                    size,
                    mechanism=f"curve-{backend}",
                )
            )
    return figures


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure."""

    rounds: int = 5
    target_s: float = 0.6  # each measured round should take about this long
    probe_s: float = 0.15  # calibration grows the count until one round takes this long
    stall_s: float = 20.0  # a worker silent for longer than this has stalled
    fixed_count: int = 0  # non-zero: skip calibration and use this count (smoke tests)
    max_count: int = 5_000_000


@dataclass
class Sample:
    """One round of one library: its duration (for calibration) and its metric values."""

    elapsed: float
    values: dict[str, float] = field(default_factory=dict)


class Session:
    """The worker processes that measure one figure for one library."""

    def __init__(self, figure: Figure, library: str, settings: Settings, tmpdir: Path) -> None:
        self.figure = figure
        self.library = library
        self.settings = settings
        self.tmpdir = tmpdir
        self.workers: list[Worker] = []

    @property
    def timeout(self) -> float:
        """Bound on any one answer: a round takes ~target_s, so this only catches stalls."""
        return self.settings.stall_s + 5.0

    def address(self) -> str:
        """Where the binding side binds: ephemeral tcp port, a private ipc path, or inproc."""
        transport = self.figure.transport
        if transport == "tcp":
            return "tcp://127.0.0.1:*"
        if transport == "ipc":
            return f"ipc://{self.tmpdir}/{self.figure.id}-{self.library}.ipc"
        return f"inproc://bench-{self.figure.id}"

    def spawn(self, role: str, address: str, label: str) -> Worker:
        """Start one worker for this session's figure and library."""
        figure = self.figure
        if figure.api == "asyncio":
            role = f"{role}-asyncio"
        spec = WorkerSpec(
            role=role,
            library=self.library,
            address=address,
            size=figure.size,
            api=figure.api,
            stall_ms=int(self.settings.stall_s * 1000),
            mechanism=figure.mechanism,
        )
        worker = Worker(spec, f"{figure.id}/{LIBRARY_NAMES[self.library]}/{label}")
        self.workers.append(worker)
        return worker

    def start(self) -> None:
        """Spawn the binding side (it must report its endpoint before anyone connects)."""
        raise NotImplementedError

    def connect(self) -> None:
        """Spawn the connecting side and wait until every worker is ready."""
        raise NotImplementedError

    def measure(self, count: int) -> Sample:
        """Run one round of ``count`` messages (or round trips) and return its sample."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop every worker; never raises, so one failure does not leak the other processes."""
        for worker in self.workers:
            worker.stop()


class ThroughputSession(Session):
    """PUSH in one process, PULL in another; inproc puts both in one process (it must)."""

    def start(self) -> None:
        role = "inproc" if self.figure.transport == "inproc" else "pull"
        self.receiver = self.spawn(role, self.address(), "receiver")

    def connect(self) -> None:
        endpoint = self.receiver.answer(self.timeout)
        self.sender: Worker | None = None
        if self.figure.transport != "inproc":
            self.sender = self.spawn("push", endpoint, "sender")
            self.sender.answer(self.timeout)

    def measure(self, count: int) -> Sample:
        count = max(count, 2)
        self.receiver.send("run", count)
        if self.sender is not None:
            self.sender.call("run", count, self.timeout)
        result = self.receiver.answer(self.timeout)
        return Sample(result["elapsed"], {"rate": result["rate"]})


class LatencySession(Session):
    """REP in one process, REQ (which holds the clock) in another."""

    def start(self) -> None:
        self.server = self.spawn("rep", self.address(), "rep")

    def connect(self) -> None:
        endpoint = self.server.answer(self.timeout)
        self.client = self.spawn("req", endpoint, "req")
        self.client.answer(self.timeout)

    def measure(self, count: int) -> Sample:
        self.server.send("run", count)
        result = self.client.call("run", count, self.timeout)
        self.server.answer(self.timeout)
        return Sample(result["elapsed"], {"median": result["median"], "p99": result["p99"]})


class PubSubSession(Session):
    """One PUB process, N SUB processes; the figure is all deliveries over the whole span."""

    def start(self) -> None:
        self.publisher = self.spawn("pub", self.address(), "pub")

    def connect(self) -> None:
        endpoint = self.publisher.answer(self.timeout)
        self.subscribers = [
            self.spawn("sub", endpoint, f"sub{i}") for i in range(self.figure.subscribers)
        ]
        for sub in self.subscribers:
            sub.answer(self.timeout)
        # Every subscription must have reached the publisher before a round starts.
        for sub in self.subscribers:
            sub.send("sync")
        self.publisher.send("sync")
        for sub in self.subscribers:
            sub.answer(self.timeout)
        self.publisher.send("endsync")
        self.publisher.answer(self.timeout)
        for sub in self.subscribers:
            sub.send("drain")
        for sub in self.subscribers:
            sub.answer(self.timeout)

    def measure(self, count: int) -> Sample:
        count = max(4, count + count % 2)  # even: exactly half the messages match
        for sub in self.subscribers:
            sub.send("run", count // 2)
        self.publisher.call("run", count, self.timeout)
        results = [sub.answer(self.timeout) for sub in self.subscribers]
        span = max(r["last"] for r in results) - min(r["first"] for r in results)
        delivered = sum(r["count"] for r in results)
        if span <= 0:
            raise BenchError(f"{self.figure.id}: a round took no measurable time; raise the count")
        # The span is the time in which all `count` published messages were delivered: that is
        # what calibration scales; the figure itself counts deliveries (count/2 per subscriber).
        return Sample(span, {"rate": delivered / span})


SESSIONS: dict[str, type[Session]] = {
    "throughput": ThroughputSession,
    "latency": LatencySession,
    "pubsub": PubSubSession,
}


def make_session(figure: Figure, library: str, settings: Settings, tmpdir: Path) -> Session:
    """The session class for the figure's kind."""
    return SESSIONS[figure.kind](figure, library, settings, tmpdir)
