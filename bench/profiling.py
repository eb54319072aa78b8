"""Profile one side of a PUSH->PULL benchmark: where does a library spend its time?

``python -m bench.profiling --side receiver`` runs the receiving side in this process under
cProfile, the sending side as an ordinary worker process (and ``--side sender`` the other way
round), then prints the top functions per thread. Profiling sides separately keeps each
profile about one process, as the throughput figure itself is.

cProfile only sees the thread that enabled it, and zmtp does its I/O in a thread of its own, so
every thread started while profiling gets its own profiler (see :class:`AllThreads`).
``--profiler none`` runs the same code unprofiled, for a sampling profiler such as
``py-spy record --threads -- python -m bench.profiling --profiler none``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from bench.harness import Worker
from bench.workers import PullReceiver, PushSender, WorkerSpec


class AllThreads:
    """cProfile for the calling thread and for every thread started while it is active.

    ``threading.setprofile`` installs a hook that each new thread calls first; the hook starts
    that thread's own profiler, which then replaces the hook for that thread.
    """

    def __init__(self) -> None:
        self.profiles: list[tuple[str, cProfile.Profile]] = []

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        profile = cProfile.Profile()
        self.profiles.append((threading.current_thread().name, profile))
        profile.enable()

    def __enter__(self) -> AllThreads:
        main = cProfile.Profile()
        self.profiles.append((threading.current_thread().name, main))
        threading.setprofile(self._hook)
        main.enable()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.profiles[0][1].disable()
        threading.setprofile(None)


def address(transport: str, tmpdir: str) -> str:
    return "tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmpdir}/profile.ipc"


def run(args: argparse.Namespace, tmpdir: str) -> tuple[float, AllThreads | None]:
    """Run ``count`` messages with the chosen side here; return the receiver's rate."""
    spec = WorkerSpec("pull", args.library, address(args.transport, tmpdir), size=args.size)
    profiler = AllThreads() if args.profiler == "cprofile" else None
    stall = 60.0
    if args.side == "receiver":
        # No control pipe here: the receiver is driven directly, not by the harness.
        receiver = PullReceiver(spec, None)  # type: ignore[arg-type]
        with profiler or contextlib.nullcontext():
            receiver.setup()
            sender = Worker(WorkerSpec("push", args.library, receiver.endpoint, args.size), "push")
            try:
                sender.answer(stall)
                sender.send("run", args.count)
                rate = receiver.do_run(args.count)["rate"]
                sender.answer(stall)
            finally:
                sender.stop()
                receiver.close()  # ends the I/O thread, so its profile is complete
        return rate, profiler
    remote = Worker(spec, "pull")
    try:
        endpoint = remote.answer(stall)
        local = PushSender(WorkerSpec("push", args.library, endpoint, args.size), None)  # type: ignore[arg-type]
        with profiler or contextlib.nullcontext():
            local.setup()
            remote.send("run", args.count)
            local.do_run(args.count)
            rate = remote.answer(stall)["rate"]  # the last message has left this process
            local.close()
    finally:
        remote.stop()
    return rate, profiler


def report(profiler: AllThreads, top: int, save: Path | None) -> None:
    """Print each thread's top functions by own time, then by cumulative time."""
    for index, (name, profile) in enumerate(profiler.profiles):
        stats = pstats.Stats(profile, stream=sys.stdout)
        if not stats.stats:  # type: ignore[attr-defined]
            continue
        total = stats.total_tt  # type: ignore[attr-defined]
        print(f"\n===== thread {name!r}: {total:.2f} s wall clock, waits included =====")
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        if save is not None:
            stats.dump_stats(save.with_name(f"{save.stem}-{index}-{name}{save.suffix}"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__)
    parser.add_argument("--side", choices=("sender", "receiver"), default="receiver")
    parser.add_argument("--library", default="zmtp", help="zmtp or zmq")
    parser.add_argument("--transport", choices=("tcp", "ipc"), default="tcp")
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--profiler", choices=("cprofile", "none"), default="cprofile")
    parser.add_argument("--save", type=Path, help="write .pstats files (one per thread)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zmtp-profile-") as tmpdir:
        started = time.perf_counter()
        rate, profiler = run(args, tmpdir)
        wall = time.perf_counter() - started
    print(
        f"{args.library} {args.side} profiled: {args.count} x {args.size} B over "
        f"{args.transport}, {rate:,.0f} msg/s at the receiver, {wall:.1f} s wall"
    )
    if profiler is not None:
        report(profiler, args.top, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
