"""``zmq.sugar.stopwatch``: pyzmq's deprecated Stopwatch, on :func:`time.monotonic_ns`."""

from __future__ import annotations

import time
import warnings

__all__ = ["Stopwatch"]


class Stopwatch:
    """Measure elapsed microseconds (deprecated in pyzmq: use :mod:`time` directly)."""

    def __init__(self) -> None:
        warnings.warn(
            "zmq.Stopwatch is deprecated: use time.monotonic() or time.perf_counter()",
            DeprecationWarning,
            stacklevel=2,
        )
        self._start = 0

    def start(self) -> None:
        """Start (or restart) the measurement."""
        self._start = time.monotonic_ns()

    def stop(self) -> int:
        """Return the whole microseconds since :meth:`start`."""
        return (time.monotonic_ns() - self._start) // 1000
