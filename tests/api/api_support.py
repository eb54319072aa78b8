"""Helpers shared by the API tests: bounded sockets, fresh endpoints, a bounded worker."""

import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import zmtp

_S = TypeVar("_S", bound=zmtp.Socket)

WAIT = 5000  # ms: the bound on anything that should happen


class Worker:
    """Run ``fn`` in a daemon thread; ``result()`` joins with a bound and re-raises."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            self.value = fn(*args)
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float = WAIT / 1000) -> bool:
        """Wait up to ``timeout`` s; return whether the thread finished."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def result(self, timeout: float = WAIT / 1000) -> Any:
        assert self.join(timeout), "the call did not return in time"
        if self.error is not None:
            raise self.error
        return self.value


def socket_maker(context: zmtp.Context, cls: type[_S]) -> Callable[..., _S]:
    """Return ``make(kind, **options)``: sockets with LINGER 0 and every wait bounded."""

    def make(kind: int, **options: Any) -> _S:
        sock = context.socket(kind)
        assert isinstance(sock, cls)
        sock.linger = 0
        sock.rcvtimeo = WAIT
        sock.sndtimeo = WAIT
        for name, value in options.items():
            setattr(sock, name, value)
        return sock

    return make


def endpoint_maker(transport: str, tmp_path: Path, prefix: str) -> Callable[[], str]:
    """Return a function giving a fresh bind address of ``transport`` on each call."""
    counter = itertools.count()

    def endpoint() -> str:
        n = next(counter)
        if transport == "tcp":
            return "tcp://127.0.0.1:*"
        if transport == "ipc":
            return f"ipc://{tmp_path}/{prefix}{n}"
        return f"inproc://{prefix}{n}"

    return endpoint
