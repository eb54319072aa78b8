"""Helpers shared by the API tests: a bounded worker thread."""

import threading
from collections.abc import Callable
from typing import Any

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
