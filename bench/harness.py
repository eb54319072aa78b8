"""The runner's side of a worker process: start it, talk to it, stop it, never wait forever.

Each wait on a worker is bounded by a timeout, so a benchmark that stalls (a lost message, a
deadlock, a crashed process) becomes a :class:`BenchError` with the worker's name and its own
error report, and the run goes on with the next figure.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.context import SpawnContext
from typing import Any

from bench.workers import WorkerSpec, worker_main

# "spawn" gives every worker a fresh interpreter: no state inherited from the runner (which may
# have imported pyzmq to read its version), and the same start-up on every platform.
SPAWN: SpawnContext = multiprocessing.get_context("spawn")


class BenchError(RuntimeError):
    """A worker failed, died or did not answer in time; the message says which and why."""


class Worker:
    """One worker process and its control pipe."""

    def __init__(self, spec: WorkerSpec, label: str) -> None:
        self.label = label
        self.spec = spec
        self._pipe, child = SPAWN.Pipe()
        self.process = SPAWN.Process(
            target=worker_main, args=(spec, child), name=f"bench-{label}", daemon=True
        )
        self.process.start()
        child.close()  # the child's copy; ours closing lets us see EOF when the child dies

    def send(self, command: str, argument: Any = None) -> None:
        """Send a command without waiting for its answer (so several workers start together)."""
        try:
            self._pipe.send((command, argument))
        except OSError as exc:
            raise BenchError(f"{self.label}: cannot send {command!r}: {exc}") from None

    def answer(self, timeout: float) -> Any:
        """Wait up to ``timeout`` seconds for the next answer and return its payload."""
        try:
            ready = self._pipe.poll(timeout)
        except OSError as exc:
            raise BenchError(f"{self.label}: control pipe broken: {exc}") from None
        if not ready:
            raise BenchError(f"{self.label}: no answer within {timeout:.0f} s (stalled)")
        try:
            kind, payload = self._pipe.recv()
        except (EOFError, OSError):
            self.process.join(1.0)
            raise BenchError(
                f"{self.label}: worker exited (exit code {self.process.exitcode})"
            ) from None
        if kind == "error":
            raise BenchError(f"{self.label}: {payload}")
        return payload

    def call(self, command: str, argument: Any, timeout: float) -> Any:
        """Send a command and wait for its answer."""
        self.send(command, argument)
        return self.answer(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to close its sockets and exit; terminate, then kill, if it does not."""
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # already gone: join and reap below
                self._pipe.send(("stop", None))
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)
        self._pipe.close()
