"""The interop matrix: which cells exist, and the semantic check each pair of socket types runs.

A :class:`Cell` is one combination of the axes

* the pair of socket types (every valid pair of ZMTP-NOTES 4.1 that zmtp implements),
* which end of the pair zmtp plays (both, unless the pair is symmetric),
* the transport (tcp, ipc),
* who binds (zmtp or libzmq),
* the security mechanism (NULL now; see :data:`MECHANISMS` for how PLAIN and CURVE plug in).

Every cell runs the check of its pair (:data:`CHECKS`), written once against :class:`sides.End`
so that it does not care which side is zmtp. A cell sets up one zmtp socket and, except for
PAIR, three libzmq sockets in the peer process, so that round-robin, fair-queueing, routing ids
and subscription forwarding are checked across several peers. Every check asserts semantics
(who received what, with which envelope, in which order), and each also carries a multipart
message with empty and 255/256-byte frames (the short/long frame header boundary) and a
16 MiB message.

The binder is the mechanism's server, so a mechanism cell needs no further axis.
"""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control import Payload, show_message
from peer_client import Frame, PeerProcess
from sides import CheckFailed, End, LibzmqEnd, Transcript, ZmtpEnd, expect_message

import zmtp

# -- the axes ----------------------------------------------------------------------------------

PAIRS: tuple[tuple[str, str], ...] = (
    ("REQ", "REP"),
    ("REQ", "ROUTER"),
    ("DEALER", "REP"),
    ("DEALER", "ROUTER"),
    ("DEALER", "DEALER"),
    ("ROUTER", "ROUTER"),
    ("PUB", "SUB"),
    ("PUB", "XSUB"),
    ("XPUB", "SUB"),
    ("XPUB", "XSUB"),
    ("PUSH", "PULL"),
    ("PAIR", "PAIR"),
)
TRANSPORTS = ("tcp", "ipc")
BINDERS = ("zmtp", "libzmq")


@dataclass(frozen=True)
class Mechanism:
    """A security mechanism as the matrix sees it: the options that make each role.

    ``options(role, side)`` returns libzmq option names and values for the ``"server"`` or
    ``"client"`` role on the ``"zmtp"`` or ``"libzmq"`` side; both APIs take libzmq's names.
    PLAIN will return ``PLAIN_SERVER``/``PLAIN_USERNAME``/``PLAIN_PASSWORD`` (and needs a ZAP
    handler next to a libzmq server), CURVE the key options; nothing else in the matrix
    changes. ``available`` is False until zmtp implements the mechanism.
    """

    name: str
    options: Callable[[str, str], list[tuple[str, Any]]]
    available: bool = True


MECHANISMS: dict[str, Mechanism] = {
    "NULL": Mechanism("NULL", lambda role, side: []),
}


@dataclass(frozen=True)
class Cell:
    """One cell of the matrix."""

    pair: tuple[str, str]
    zmtp_end: int
    """Which end of ``pair`` zmtp plays (0 or 1)."""
    transport: str
    binder: str
    """``"zmtp"`` or ``"libzmq"``: whose socket(s) bind."""
    mechanism: str = "NULL"

    @property
    def zmtp_type(self) -> str:
        return self.pair[self.zmtp_end]

    @property
    def libzmq_type(self) -> str:
        return self.pair[1 - self.zmtp_end]

    @property
    def id(self) -> str:
        """``tcp-zmtp:REQ-binds-libzmq:ROUTER-NULL``: readable in pytest's output."""
        zmtp_side = f"zmtp:{self.zmtp_type}"
        libzmq_side = f"libzmq:{self.libzmq_type}"
        first, second = (
            (zmtp_side, libzmq_side) if self.binder == "zmtp" else (libzmq_side, zmtp_side)
        )
        return f"{self.transport}-{first}-binds-{second}-{self.mechanism}"

    @property
    def row(self) -> str:
        """The table row: the pair with zmtp's end named first."""
        return f"zmtp {self.zmtp_type} - libzmq {self.libzmq_type}"

    @property
    def column(self) -> str:
        return f"{self.transport}, {self.binder} binds"


def build_table(mechanisms: Sequence[str] = ("NULL",)) -> list[Cell]:
    """Every cell, in table order: pair, zmtp's end, mechanism, transport, binder."""
    cells = []
    for pair in PAIRS:
        ends = (0,) if pair[0] == pair[1] else (0, 1)
        for end, mechanism, transport, binder in itertools.product(
            ends, mechanisms, TRANSPORTS, BINDERS
        ):
            cells.append(Cell(pair, end, transport, binder, mechanism))
    return cells


TABLE = build_table([name for name, mech in MECHANISMS.items() if mech.available])

KNOWN_FAILURES: dict[str, str] = {}
"""Cell id patterns (fnmatch) that fail because of a zmtp bug, with the reason; such cells are
marked ``xfail(strict=True)`` so they turn red as soon as the bug is fixed."""


def known_failure(cell: Cell) -> str | None:
    for pattern, reason in KNOWN_FAILURES.items():
        if fnmatch.fnmatchcase(cell.id, pattern):
            return reason
    return None


# -- running one cell ---------------------------------------------------------------------------

PEERS = 3
"""libzmq sockets per cell (one for PAIR): enough to see a rotation."""
MULTIPART = [b"", b"\xa5" * 255, b"\x5a" * 256, b"", b"end"]
"""Empty frames, and sizes either side of the 1-byte/8-byte frame header switch."""
BIG = 16 * 1024 * 1024
SETTLE_S = 0.15
"""Loopback delivery time for a few small messages. Fair-queueing can only be seen once every
sender's messages wait in the receiver's queues, and nothing on the receiving side says that
they all arrived without reading them, so the fair-queue checks wait this long first."""
ATTACH_S = 0.02
"""zmtp reports HANDSHAKE_SUCCEEDED from its I/O thread just before it attaches the pipe to
the socket (libzmq does the same, lazily); this covers that gap before round-robin checks."""


_IPC_NAMES = itertools.count(1)
"""ipc paths are never reused within a module, so no cell meets a previous cell's file."""


class CellRun:
    """The sockets of one cell on both sides, and helpers that see both."""

    def __init__(
        self, cell: Cell, peer: PeerProcess, ipc_dir: Path, transcript: Transcript | None = None
    ) -> None:
        self.cell = cell
        self.peer = peer
        self.ipc_dir = ipc_dir
        self.transcript = transcript or Transcript()
        self.context = zmtp.Context()
        self.ends: list[End] = []

    # -- endpoints and sockets -------------------------------------------------------------------

    def endpoint(self) -> str:
        """A fresh endpoint to bind: an ephemeral loopback port, or a path in the ipc dir."""
        if self.cell.transport == "tcp":
            return "tcp://127.0.0.1:*"
        return f"ipc://{self.ipc_dir}/{self.cell.pair[0].lower()}-{next(_IPC_NAMES)}"

    def _mechanism_options(self, side: str) -> list[tuple[str, Any]]:
        role = "server" if side == self.cell.binder else "client"
        return MECHANISMS[self.cell.mechanism].options(role, side)

    def zmtp(self, kind: str, options: Sequence[tuple[str, Any]] = ()) -> ZmtpEnd:
        end = ZmtpEnd(self.context, kind, self.transcript)
        self.ends.append(end)
        for name, value in [*self._mechanism_options("zmtp"), *options]:
            end.set(name, value)
        return end

    def libzmq(
        self, kind: str, options: Sequence[tuple[str, Any]] = (), name: str | None = None
    ) -> LibzmqEnd:
        opts = [("LINGER", 0), *self._mechanism_options("libzmq"), *options]
        end = LibzmqEnd(self.peer.socket(kind, opts), self.transcript, name)
        self.ends.append(end)
        return end

    def topology(
        self,
        peers: int = PEERS,
        zmtp_options: Sequence[tuple[str, Any]] = (),
        libzmq_options: Callable[[int], Sequence[tuple[str, Any]]] = lambda i: (),
    ) -> tuple[ZmtpEnd, list[LibzmqEnd]]:
        """One zmtp socket joined to ``peers`` libzmq sockets, every handshake done.

        zmtp binds one endpoint that all libzmq sockets connect to, or each libzmq socket
        binds its own endpoint and zmtp connects to all of them. Both monitors must report
        the handshakes: libzmq's says our READY was accepted, ours that libzmq's was.
        """
        cell = self.cell
        ours = self.zmtp(cell.zmtp_type, zmtp_options)
        theirs = [
            self.libzmq(cell.libzmq_type, libzmq_options(i), f"{cell.libzmq_type}#{i}")
            for i in range(peers)
        ]
        if cell.binder == "zmtp":
            endpoint = ours.bind(self.endpoint())
            for end in theirs:
                end.connect(endpoint)
        else:
            for end in theirs:
                ours.connect(end.bind(self.endpoint()))
        ours.handshakes(peers)
        for end in theirs:
            end.handshakes(1)
        time.sleep(ATTACH_S)
        return ours, theirs

    @staticmethod
    def roles(ours: ZmtpEnd, theirs: list[LibzmqEnd], first: str) -> tuple[list[End], list[End]]:
        """``(ends playing first, ends playing the other type)`` of a cell's pair."""
        if ours.kind == first:
            return [ours], list(theirs)
        return list(theirs), [ours]

    # -- waiting on several ends ------------------------------------------------------------------

    def recv_any(self, ends: Sequence[End], timeout: float = 5.0) -> tuple[int, list[Frame]]:
        """The first message any of ``ends`` receives, and which end got it."""
        if len(ends) == 1:
            return 0, ends[0].recv(timeout)
        remote = [end for end in ends if isinstance(end, LibzmqEnd)]
        assert len(remote) == len(ends), "several ends on one side are all libzmq sockets"
        ids = [end.remote.id for end in remote]
        readable = self.peer.request("poll", socks=ids, timeout=int(timeout * 1000))["readable"]
        if not readable:
            labels = ", ".join(end.label for end in ends)
            raise CheckFailed(f"none of {labels} received anything within {timeout} s")
        index = ids.index(readable[0])
        return index, ends[index].recv(1.0)

    def nothing_more(self, ends: Sequence[End], within: float = 0.05) -> None:
        """Fail if any of ``ends`` has (or gets within ``within`` s) a message nobody expected."""
        remote = [end for end in ends if isinstance(end, LibzmqEnd)]
        if remote:
            readable = self.peer.request(
                "poll", socks=[end.remote.id for end in remote], timeout=int(within * 1000)
            )["readable"]
            for theirs in remote:
                if theirs.remote.id in readable:
                    theirs.recv_nothing(0)
        for ours in ends:
            if isinstance(ours, ZmtpEnd):
                ours.recv_nothing(within)

    def settle(self, receiver: End) -> None:
        """Wait for the first message, then for the rest to land (see :data:`SETTLE_S`)."""
        if isinstance(receiver, ZmtpEnd):
            receiver.sock.poll(5000, zmtp.POLLIN)
        time.sleep(SETTLE_S)

    def close(self) -> None:
        """Close zmtp's sockets and context, and every libzmq socket of the peer."""
        try:
            for end in self.ends:
                if isinstance(end, ZmtpEnd):
                    end.close()
        finally:
            self.context.term()
            if self.peer.process.poll() is None:  # a scenario may have killed it
                self.peer.thaw()
                self.peer.reset()


# -- shared assertions --------------------------------------------------------------------------


def check_rotation(owners: list[int], peers: int, what: str) -> None:
    """Message ``i`` went to ``owners[i]``: strict round-robin over ``peers`` receivers."""
    rounds = [owners[i : i + peers] for i in range(0, len(owners), peers)]
    if any(len(set(r)) != len(r) for r in rounds) or any(
        owners[i] != owners[i + peers] for i in range(len(owners) - peers)
    ):
        raise CheckFailed(f"{what}: not round-robin; receivers in send order were {owners}")


def check_fair(sources: list[int], peers: int, what: str) -> None:
    """Messages were taken one per sender in turn while every sender had some waiting."""
    rounds = [sources[i : i + peers] for i in range(0, len(sources), peers)]
    if any(sorted(r) != list(range(peers)) for r in rounds):
        raise CheckFailed(f"{what}: not fair-queued; senders in receive order were {sources}")


def check_count(got: int, expected: int, what: str) -> None:
    if got != expected:
        raise CheckFailed(f"{what}: expected {expected} messages, got {got}")


def big(seed: int) -> Payload:
    return Payload(BIG, seed)


def as_bytes(frame: Frame) -> bytes:
    """A frame that must be small (an id, a sequence number), as bytes."""
    if not isinstance(frame, bytes):
        raise CheckFailed(f"expected a small frame, got {frame}")
    return frame


def round_robin(
    run: CellRun,
    sender: End,
    receivers: Sequence[End],
    frames: Callable[[int], list[bytes]],
    seen_as: Callable[[int], list[bytes]],
) -> None:
    """``sender`` sends two rounds; each receiver gets every ``len(receivers)``-th message.

    ``frames(i)`` is message ``i`` as sent (``frames(i)[-1]`` names it), ``seen_as(i)`` as
    each receiver must see it (with the envelope a ROUTER adds, or without the one a REP
    strips).
    """
    count = 2 * len(receivers)
    for i in range(count):
        sender.send(frames(i))
    owners = [-1] * count
    names = {as_bytes(seen_as(i)[-1]): i for i in range(count)}
    for k, receiver in enumerate(receivers):
        got = receiver.recv_many(2)
        check_count(len(got), 2, f"{receiver.label} in a round-robin over {len(receivers)}")
        for message in got:
            i = names.get(as_bytes(message[-1]), -1)
            if i < 0:
                raise CheckFailed(f"{receiver.label} got unexpected {show_message(message)}")
            expect_message(message, seen_as(i), f"{receiver.label}, message {i}")
            owners[i] = k
    check_rotation(owners, len(receivers), f"{sender.label} to {len(receivers)} peers")
    run.nothing_more(receivers)


def fair_queue(
    run: CellRun,
    senders: Sequence[End],
    receiver: End,
    frames: Callable[[int, int], list[bytes]],
    seen_as: Callable[[int, int], list[bytes]],
    per_sender: int = 3,
) -> None:
    """Every sender queues ``per_sender`` messages; ``receiver`` takes them one sender per turn.

    ``frames(k, j)`` is sender ``k``'s message ``j``, ``seen_as(k, j)`` what the receiver gets
    (with a routing id, say). Each sender's messages must also arrive in order.
    """
    for j in range(per_sender):
        for k, sender in enumerate(senders):
            sender.send(frames(k, j))
    run.settle(receiver)
    expected: dict[tuple[Frame, ...], tuple[int, int]] = {
        tuple(seen_as(k, j)): (k, j) for k in range(len(senders)) for j in range(per_sender)
    }
    got = receiver.recv_many(len(expected))
    check_count(len(got), len(expected), f"{receiver.label} from {len(senders)} senders")
    sources = []
    next_of = [0] * len(senders)
    for message in got:
        key = tuple(message)
        if key not in expected:
            raise CheckFailed(f"{receiver.label} got unexpected {show_message(message)}")
        k, j = expected[key]
        if j != next_of[k]:
            raise CheckFailed(f"{receiver.label}: sender {k}'s message {j} came out of order")
        next_of[k] += 1
        sources.append(k)
    check_fair(sources, len(senders), f"{receiver.label} reading {len(senders)} senders")
    run.nothing_more([receiver])


def transfer_big(
    sender: End, receiver: End, prefix: list[bytes], seen: list[bytes], seed: int
) -> None:
    """One 16 MiB frame from ``sender`` to ``receiver`` (after ``prefix``; seen after ``seen``)."""
    payload = big(seed)
    sender.send([*prefix, payload])
    expect_message(receiver.recv(), [*seen, payload], f"{receiver.label}, a 16 MiB message")


# -- the checks, one per pair -------------------------------------------------------------------


def check_req_rep(run: CellRun) -> None:
    """REQ's envelope never shows; round-robin over REPs; each reply reaches its requester."""
    ours, theirs = run.topology()
    reqs, reps = run.roles(ours, theirs, "REQ")
    if len(reqs) == 1:
        req = reqs[0]
        owners = []
        for i in range(2 * len(reps)):
            body = [b"q%d" % i, *MULTIPART]
            req.send(body)
            k, got = run.recv_any(reps)
            expect_message(got, body, f"{reps[k].label}, request {i} without REQ's delimiter")
            reps[k].send([b"a%d" % i, b"by %d" % k])
            expect_message(req.recv(), [b"a%d" % i, b"by %d" % k], f"{req.label}, reply {i}")
            owners.append(k)
        check_rotation(owners, len(reps), f"{req.label} requests over {len(reps)} REPs")
    else:
        rep = reps[0]
        for i, req in enumerate(reqs):
            req.send([b"q%d" % i, *MULTIPART])
        asked = set()
        for _ in reqs:
            got = rep.recv()
            name = as_bytes(got[0])
            expect_message(got, [name, *MULTIPART], f"{rep.label}, a request without envelope")
            asked.add(name)
            rep.send([b"re:" + name])
        if asked != {b"q%d" % i for i in range(len(reqs))}:
            raise CheckFailed(f"{rep.label} got requests {sorted(asked)}")
        for i, req in enumerate(reqs):
            expect_message(req.recv(), [b"re:q%d" % i], f"{req.label}, the reply to its request")
    req = reqs[0]
    req.send([big(1)])
    k, got = run.recv_any(reps)
    expect_message(got, [big(1)], f"{reps[k].label}, a 16 MiB request")
    transfer_big(reps[k], req, [], [], 2)
    run.nothing_more(run.ends)


def check_req_router(run: CellRun) -> None:
    """ROUTER sees [routing id, "", body]; replies reach the REQ named; stray replies vanish."""
    if run.cell.zmtp_type == "REQ":
        ours, theirs = run.topology(zmtp_options=[("ROUTING_ID", b"zreq")])
        req: End = ours
        routers = theirs
        owners = []
        for i in range(2 * len(routers)):
            body = [b"q%d" % i, *MULTIPART]
            req.send(body)
            k, got = run.recv_any(routers)
            expect_message(got, [b"zreq", b"", *body], f"{routers[k].label}, request {i}")
            stray = routers[(k + 1) % len(routers)]
            stray.send([b"zreq", b"", b"stray %d" % i])  # REQ must drop: it did not ask this one
            routers[k].send([b"zreq", b"", b"a%d" % i])
            expect_message(req.recv(), [b"a%d" % i], f"{req.label}, the reply of the asked peer")
            owners.append(k)
        check_rotation(owners, len(routers), f"{req.label} requests over {len(routers)} ROUTERs")
        req.send([big(1)])
        k, got = run.recv_any(routers)
        expect_message(got, [b"zreq", b"", big(1)], f"{routers[k].label}, a 16 MiB request")
        transfer_big(routers[k], req, [b"zreq", b""], [], 2)
    else:
        ids = [b"req0", b"req1", b""]  # the last gets a generated id: 0x00 + 4 bytes
        ours, theirs = run.topology(
            libzmq_options=lambda i: [("ROUTING_ID", ids[i])] * bool(ids[i])
        )
        router: End = ours
        reqs: list[LibzmqEnd] = theirs
        for i, req in enumerate(reqs):
            req.send([b"q%d" % i, *MULTIPART])
        seen: dict[bytes, bytes] = {}
        for _ in reqs:
            got = router.recv()
            rid, name = as_bytes(got[0]), as_bytes(got[2])
            expect_message(got, [rid, b"", name, *MULTIPART], f"{router.label}, a REQ envelope")
            seen[name] = rid
        for i in range(len(reqs)):
            found = seen.get(b"q%d" % i)
            if found is None:
                raise CheckFailed(f"{router.label} never got {reqs[i].label}'s request")
            if ids[i] and found != ids[i]:
                raise CheckFailed(f"{reqs[i].label} has ROUTING_ID {ids[i]!r}, routed as {found!r}")
            if not ids[i] and (len(found) != 5 or found[0] != 0):
                raise CheckFailed(f"generated routing id {found!r} is not 0x00 + 4 bytes")
        router.send([b"nobody", b"", b"lost"])  # unroutable: dropped silently, no error
        for i in reversed(range(len(reqs))):  # replies in another order than the requests
            router.send([seen[b"q%d" % i], b"", b"a%d" % i])
        for i, req in enumerate(reqs):
            expect_message(req.recv(), [b"a%d" % i], f"{req.label}, the reply routed to it")
        reqs[0].send([big(1)])
        expect_message(router.recv(), [ids[0], b"", big(1)], f"{router.label}, 16 MiB")
        transfer_big(router, reqs[0], [ids[0], b""], [], 2)
    run.nothing_more(run.ends)


def check_dealer_rep(run: CellRun) -> None:
    """DEALER supplies the delimiter itself; REP returns any envelope intact; fair and round."""
    ours, theirs = run.topology()
    dealers, reps = run.roles(ours, theirs, "DEALER")
    if len(dealers) == 1:
        dealer = dealers[0]
        count = 2 * len(reps)
        for i in range(count):  # asynchronous: every request is out before any reply
            dealer.send([b"", b"q%d" % i, *MULTIPART])
        owners = [-1] * count
        for _ in range(count):
            k, got = run.recv_any(reps)
            i = int(as_bytes(got[0])[1:])
            expect_message(got, [b"q%d" % i, *MULTIPART], f"{reps[k].label}, request {i}")
            owners[i] = k
            reps[k].send([b"a%d" % i])
        check_rotation(owners, len(reps), f"{dealer.label} requests over {len(reps)} REPs")
        replies = dealer.recv_many(count)
        check_count(len(replies), count, f"{dealer.label} replies")
        if sorted(as_bytes(m[1]) for m in replies) != sorted(b"a%d" % i for i in range(count)):
            raise CheckFailed(f"{dealer.label} replies were {[show_message(m) for m in replies]}")
        for message in replies:
            expect_message(message, [b"", message[1]], f"{dealer.label}, a reply envelope")
        dealer.send([b"", big(1)])
        k, got = run.recv_any(reps)
        expect_message(got, [big(1)], f"{reps[k].label}, a 16 MiB request")
        transfer_big(reps[k], dealer, [], [b""], 2)
    else:
        rep = reps[0]

        def echo(frames: list[Frame]) -> None:
            rep.send([b"re:" + as_bytes(frames[0]), *map(as_bytes, frames[1:])])

        # Fair-queueing, with an envelope of several hops kept intact for each reply.
        for j in range(2):
            for k, dealer in enumerate(dealers):
                dealer.send([b"hop%d" % k, b"hop", b"", b"q%d-%d" % (k, j), *MULTIPART])
        run.settle(rep)
        sources = []
        for _ in range(2 * len(dealers)):
            got = rep.recv()
            name = as_bytes(got[0])
            expect_message(got, [name, *MULTIPART], f"{rep.label}, a request")
            sources.append(int(name[1 : name.index(b"-")]))
            echo(got)
        check_fair(sources, len(dealers), f"{rep.label} reading {len(dealers)} DEALERs")
        for k, dealer in enumerate(dealers):
            for j in range(2):
                expected = [b"hop%d" % k, b"hop", b"", b"re:q%d-%d" % (k, j), *MULTIPART]
                expect_message(dealer.recv(), expected, f"{dealer.label}, its envelope back")
        # A message without the empty delimiter is not a request: REP drops it and goes on.
        dealers[0].send([b"no delimiter"])
        dealers[0].send([b"", b"after"])
        expect_message(rep.recv(), [b"after"], f"{rep.label}, after a malformed request")
        echo([b"after"])
        expect_message(dealers[0].recv(), [b"", b"re:after"], f"{dealers[0].label}, reply")
        dealers[1].send([b"", big(1)])
        expect_message(rep.recv(), [big(1)], f"{rep.label}, a 16 MiB request")
        transfer_big(rep, dealers[1], [], [b""], 2)
    run.nothing_more(run.ends)


def check_dealer_router(run: CellRun) -> None:
    """Routing ids both ways (set and generated), round-robin out of and fair-queue into DEALER."""
    if run.cell.zmtp_type == "DEALER":
        ours, theirs = run.topology(zmtp_options=[("ROUTING_ID", b"zd")])
        dealer: End = ours
        routers = theirs
        round_robin(
            run,
            dealer,
            routers,
            lambda i: [*MULTIPART, b"m%d" % i],
            lambda i: [b"zd", *MULTIPART, b"m%d" % i],
        )
        fair_queue(
            run,
            routers,
            dealer,
            lambda k, j: [b"zd", b"r%d" % k, b"%d" % j],
            lambda k, j: [b"r%d" % k, b"%d" % j],
        )
        dealer.send([big(1)])
        k, got = run.recv_any(routers)
        expect_message(got, [b"zd", big(1)], f"{routers[k].label}, a 16 MiB message")
        transfer_big(routers[2], dealer, [b"zd"], [], 2)
    else:
        ids = [b"d0", b"d1", b""]
        ours, theirs = run.topology(
            libzmq_options=lambda i: [("ROUTING_ID", ids[i])] * bool(ids[i])
        )
        router = ours
        dealers: list[LibzmqEnd] = theirs
        dealers[2].send([b"hello"])
        generated = as_bytes(router.recv()[0])
        if len(generated) != 5 or generated[0] != 0:
            raise CheckFailed(f"generated routing id {generated!r} is not 0x00 + 4 bytes")
        rids = [ids[0], ids[1], generated]
        fair_queue(
            run,
            dealers,
            router,
            lambda k, j: [b"%d" % j, *MULTIPART],
            lambda k, j: [rids[k], b"%d" % j, *MULTIPART],
        )
        router.send([b"nobody", b"lost"])  # unroutable: dropped silently
        for k in reversed(range(len(dealers))):
            router.send([rids[k], b"to %d" % k, b""])
        for k, dealer in enumerate(dealers):
            expect_message(dealer.recv(), [b"to %d" % k, b""], f"{dealer.label}, routed by id")
        router.set("ROUTER_MANDATORY", 1)
        try:
            router.send([b"nobody", b"lost"], timeout=0)
        except zmtp.ZMQError as exc:
            if exc.errno != zmtp.EHOSTUNREACH:
                raise CheckFailed(f"ROUTER_MANDATORY to an unknown id raised {exc!r}") from exc
        else:
            raise CheckFailed("ROUTER_MANDATORY: sending to an unknown id did not fail")
        transfer_big(dealers[1], router, [], [b"d1"], 1)
        transfer_big(router, dealers[1], [b"d1"], [], 2)
    run.nothing_more(run.ends)


def check_dealer_dealer(run: CellRun) -> None:
    """No envelope either way: frames pass untouched; round-robin out, fair-queue in."""
    ours, theirs = run.topology()
    round_robin(
        run, ours, theirs, lambda i: [*MULTIPART, b"m%d" % i], lambda i: [*MULTIPART, b"m%d" % i]
    )
    fair_queue(
        run,
        theirs,
        ours,
        lambda k, j: [b"", b"%d" % k, b"%d" % j],
        lambda k, j: [b"", b"%d" % k, b"%d" % j],
    )
    ours.send([b"", big(1)])
    k, got = run.recv_any(theirs)
    expect_message(got, [b"", big(1)], f"{theirs[k].label}, a 16 MiB message")
    transfer_big(theirs[1], ours, [], [], 2)
    run.nothing_more(run.ends)


def check_router_router(run: CellRun) -> None:
    """Both ROUTERs know each other by the ROUTING_ID sent in READY and route by it."""
    ours, theirs = run.topology(
        zmtp_options=[("ROUTING_ID", b"zr")],
        libzmq_options=lambda i: [("ROUTING_ID", b"lr%d" % i)],
    )
    for k in reversed(range(len(theirs))):
        ours.send([b"lr%d" % k, b"to %d" % k, *MULTIPART])
    for k, end in enumerate(theirs):
        expect_message(end.recv(), [b"zr", b"to %d" % k, *MULTIPART], f"{end.label}, routed by id")
    for k, end in enumerate(theirs):
        end.send([b"zr", b"from %d" % k])
    got = sorted((as_bytes(m[0]), as_bytes(m[1])) for m in ours.recv_many(len(theirs)))
    expected = [(b"lr%d" % k, b"from %d" % k) for k in range(len(theirs))]
    if got != expected:
        raise CheckFailed(f"{ours.label} got {got}, expected {expected}")
    transfer_big(ours, theirs[1], [b"lr1"], [b"zr"], 1)
    transfer_big(theirs[2], ours, [b"zr"], [b"lr2"], 2)
    run.nothing_more(run.ends)


def check_push_pull(run: CellRun) -> None:
    """Round-robin out of PUSH, fair-queue into PULL, whole multipart messages."""
    ours, theirs = run.topology()
    pushes, _ = run.roles(ours, theirs, "PUSH")
    if len(pushes) == 1:
        round_robin(
            run,
            ours,
            theirs,
            lambda i: [*MULTIPART, b"m%d" % i],
            lambda i: [*MULTIPART, b"m%d" % i],
        )
        ours.send([b"x", big(1)])
        k, got = run.recv_any(theirs)
        expect_message(got, [b"x", big(1)], f"{theirs[k].label}, a 16 MiB message")
    else:
        fair_queue(
            run,
            theirs,
            ours,
            lambda k, j: [*MULTIPART, b"%d-%d" % (k, j)],
            lambda k, j: [*MULTIPART, b"%d-%d" % (k, j)],
        )
        transfer_big(theirs[1], ours, [b"x"], [b"x"], 1)
    run.nothing_more(run.ends)


def check_pair(run: CellRun) -> None:
    """Both directions, in order; a second peer is refused by a bound zmtp PAIR."""
    ours, (theirs,) = run.topology(peers=1)
    for i in range(3):
        ours.send([b"z%d" % i, *MULTIPART])
        theirs.send([b"l%d" % i, *MULTIPART])
    for i in range(3):
        expect_message(theirs.recv(), [b"z%d" % i, *MULTIPART], f"{theirs.label}, message {i}")
        expect_message(ours.recv(), [b"l%d" % i, *MULTIPART], f"{ours.label}, message {i}")
    if run.cell.binder == "zmtp":
        intruder = run.libzmq("PAIR", name="PAIR#intruder")
        intruder.connect(ours.last_endpoint)
        intruder.send([b"intruder"])
        ours.recv_nothing(0.2)
        ours.send([b"still"])
        expect_message(theirs.recv(), [b"still"], f"{theirs.label}, with an intruder refused")
    transfer_big(ours, theirs, [], [], 1)
    transfer_big(theirs, ours, [b""], [b""], 2)
    run.nothing_more([ours, theirs])


# -- publish/subscribe ---------------------------------------------------------------------------


class Subscriber:
    """A SUB subscribes with an option, an XSUB by sending ``0x01 topic`` upstream."""

    def __init__(self, end: End) -> None:
        self.end = end
        self.topics: list[bytes] = []

    def subscribe(self, topic: bytes) -> None:
        self.topics.append(topic)
        if self.end.kind == "SUB":
            self.end.set("SUBSCRIBE", topic)
        else:
            self.end.send([b"\x01" + topic])

    def unsubscribe(self, topic: bytes) -> None:
        self.topics.remove(topic)
        if self.end.kind == "SUB":
            self.end.set("UNSUBSCRIBE", topic)
        else:
            self.end.send([b"\x00" + topic])

    def wants(self, message: Sequence[Frame]) -> bool:
        first = message[0]
        return isinstance(first, bytes) and any(first.startswith(t) for t in self.topics)


def sync_subscriptions(
    run: CellRun, pubs: Sequence[End], subs: Sequence[Subscriber], topic: Callable[[int], bytes]
) -> None:
    """Publish probes until every subscriber got one from every publisher.

    A PUB drops what nobody has subscribed to yet and gives no sign of a subscription's
    arrival, so the only proof is a matching message getting through. Probes that arrive
    later are skipped by :func:`received` (after checking they match a subscription).
    """
    pending = {(p, s) for p in range(len(pubs)) for s in range(len(subs))}
    deadline = time.monotonic() + 5.0
    while pending:
        if time.monotonic() > deadline:
            raise CheckFailed(
                f"subscriptions never took effect for (publisher, subscriber) {sorted(pending)}"
            )
        for p, pub in enumerate(pubs):
            for s in range(len(subs)):
                if any(pp == p for pp, _ in pending):
                    pub.send([topic(s) + b"-probe", b"%d" % p])
        for s, sub in enumerate(subs):
            for message in sub.end.recv_many(100, timeout=0.05, idle=0.02):
                if not sub.wants(message):
                    raise CheckFailed(
                        f"{sub.end.label} got {show_message(message)}, not subscribed"
                    )
                pending.discard((int(as_bytes(message[1])), s))


def received(sub: Subscriber, count: int) -> list[list[Frame]]:
    """The next ``count`` messages that are not probes; every one must match a subscription."""
    messages: list[list[Frame]] = []
    deadline = time.monotonic() + 5.0
    while len(messages) < count and time.monotonic() < deadline:
        for message in sub.end.recv_many(
            count - len(messages), timeout=deadline - time.monotonic()
        ):
            if not sub.wants(message):
                raise CheckFailed(
                    f"{sub.end.label} got {show_message(message)}: not subscribed to it"
                )
            first = message[0]
            if not (isinstance(first, bytes) and first.endswith(b"-probe")):
                messages.append(message)
    return messages


def expect_notifications(xpub: End, expected: list[bytes], what: str) -> None:
    """An XPUB reports exactly these (un)subscriptions, in any order."""
    got = xpub.recv_many(len(expected))
    names = sorted(as_bytes(m[0]) for m in got if len(m) == 1)
    if names != sorted(expected) or len(got) != len(expected):
        shown = [show_message(m) for m in got]
        raise CheckFailed(f"{xpub.label} {what}: expected {sorted(expected)}, got {shown}")


def check_pubsub(run: CellRun) -> None:
    """Filtering, subscription forwarding both ways, cancels, XSUB upstream data, 16 MiB.

    Works for PUB/XPUB x SUB/XSUB in both shapes: one zmtp publisher with three libzmq
    subscribers wanting "A", "B" and everything, or three libzmq publishers and one zmtp
    subscriber wanting "A" and "B". Filtering is checked at the subscriber's end, so with
    an XSUB (which does not filter) it proves the publisher filters.
    """
    pub_type, sub_type = run.cell.pair
    ours, theirs = run.topology()
    pubs, sub_ends = run.roles(ours, theirs, pub_type)
    subs = [Subscriber(end) for end in sub_ends]
    xpub = pub_type == "XPUB"
    wanted = [[b"A"], [b"B"], [b""]] if len(subs) > 1 else [[b"A", b"B"]]
    for sub, topics in zip(subs, wanted, strict=True):
        for topic in topics:
            sub.subscribe(topic)
    if xpub:  # subscription forwarding: each XPUB hears of each topic once
        distinct = sorted({t for topics in wanted for t in topics})
        for pub in pubs:
            expect_notifications(pub, [b"\x01" + t for t in distinct], "subscriptions")
    else:
        sync_subscriptions(run, pubs, subs, lambda s: subs[s].topics[0])

    def publish(tag: bytes) -> dict[int, list[list[bytes]]]:
        sent: dict[int, list[list[bytes]]] = {}
        for p, pub in enumerate(pubs):
            sent[p] = []
            for topic in (b"A", b"B", b"C", b"AB", b"A"):
                message = [topic, tag, b"%d" % p, *MULTIPART]
                pub.send(message)
                sent[p].append(message)
        return sent

    def expect_filtered(sent: dict[int, list[list[bytes]]], what: str) -> None:
        for sub in subs:
            wanted_msgs = {p: [m for m in msgs if sub.wants(m)] for p, msgs in sent.items()}
            got = received(sub, sum(len(m) for m in wanted_msgs.values()))
            by_pub: dict[int, list[list[Frame]]] = {p: [] for p in sent}
            for message in got:
                by_pub[int(as_bytes(message[2]))].append(message)
            for p, msgs in wanted_msgs.items():
                if [list(m) for m in by_pub[p]] != msgs:
                    expected = [show_message(m) for m in msgs]
                    shown = [show_message(m) for m in by_pub[p]]
                    raise CheckFailed(
                        f"{sub.end.label} ({what}) subscribed to {sub.topics}, from publisher "
                        f"{p}: expected {expected}, got {shown}"
                    )

    expect_filtered(publish(b"first"), "first round")

    # Cancels travel too: the first subscriber gives up "A" and takes "Z" instead; once a
    # "Z" gets through, the cancel (sent before it on the same connection) has arrived.
    first = subs[0]
    first.unsubscribe(b"A")
    first.subscribe(b"Z")
    if xpub:
        for pub in pubs:
            expect_notifications(pub, [b"\x00A", b"\x01Z"], "a cancel and a subscription")
    else:
        sync_subscriptions(run, pubs, [first], lambda s: b"Z")
    expect_filtered(publish(b"second"), "after a cancel")

    if sub_type == "XSUB":  # XSUB sends other messages upstream; XPUB delivers them, PUB drops
        for sub in subs:
            sub.end.send([b"up from " + sub.end.label.encode()])
        if xpub:
            for pub in pubs:
                got = sorted(as_bytes(m[0]) for m in pub.recv_many(len(subs)))
                expected = sorted(b"up from " + sub.end.label.encode() for sub in subs)
                if got != expected:
                    raise CheckFailed(f"{pub.label} upstream: expected {expected}, got {got}")

    # 16 MiB to whoever wants "B".
    for p, pub in enumerate(pubs):
        pub.send([b"B", b"%d" % p, big(p)])
    for sub in subs:
        if sub.wants([b"B"]):
            bigs = sorted(received(sub, len(pubs)), key=lambda m: as_bytes(m[1]))
            for p in range(len(pubs)):
                expect_message(bigs[p], [b"B", b"%d" % p, big(p)], f"{sub.end.label}, 16 MiB")

    if xpub and len(subs) > 1:
        # A subscriber that leaves takes its subscriptions along, on the side that accepted
        # it. A connecting XPUB keeps the pipe (and its subscriptions) for the reconnection,
        # so libzmq reports nothing there (checked against libzmq-to-libzmq), nor may we.
        subs[1].end.close()
        run.ends.remove(subs[1].end)
        if run.cell.binder == "zmtp":
            expect_notifications(pubs[0], [b"\x00B"], "cancel of a departed subscriber")
        else:
            pubs[0].recv_nothing(0.3)
    run.nothing_more(run.ends)


CHECKS: dict[tuple[str, str], Callable[[CellRun], None]] = {
    ("REQ", "REP"): check_req_rep,
    ("REQ", "ROUTER"): check_req_router,
    ("DEALER", "REP"): check_dealer_rep,
    ("DEALER", "ROUTER"): check_dealer_router,
    ("DEALER", "DEALER"): check_dealer_dealer,
    ("ROUTER", "ROUTER"): check_router_router,
    ("PUB", "SUB"): check_pubsub,
    ("PUB", "XSUB"): check_pubsub,
    ("XPUB", "SUB"): check_pubsub,
    ("XPUB", "XSUB"): check_pubsub,
    ("PUSH", "PULL"): check_push_pull,
    ("PAIR", "PAIR"): check_pair,
}


@contextlib.contextmanager
def running(cell: Cell, peer: PeerProcess, ipc_dir: Path, name: str = "") -> Iterator[CellRun]:
    """A :class:`CellRun` that is closed at the end and whose failures name the test.

    Any exception becomes :class:`CellFailed` carrying ``name`` (the cell id by default)
    and the transcript of both sides.
    """
    run = CellRun(cell, peer, ipc_dir)
    try:
        yield run
    except Exception as exc:
        raise CellFailed(name or f"cell {cell.id}", cell, exc, run.transcript) from exc
    finally:
        run.close()


def run_cell(cell: Cell, peer: PeerProcess, ipc_dir: Path) -> None:
    """Run one cell's check; a failure names the cell and shows what each side did."""
    with running(cell, peer, ipc_dir) as run:
        CHECKS[cell.pair](run)


class CellFailed(AssertionError):
    """A cell or scenario failed: its name, the reason, and what each side sent and received."""

    def __init__(self, name: str, cell: Cell, error: BaseException, transcript: Transcript) -> None:
        self.cell = cell
        self.reason = str(error) if isinstance(error, CheckFailed) else f"{error!r}"
        super().__init__(
            f"{name} failed: {self.reason}\n"
            f"what each side sent and received (zmtp {cell.zmtp_type} vs libzmq "
            f"{cell.libzmq_type}, {cell.column}):\n{transcript.render()}"
        )
