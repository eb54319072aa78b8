"""Proof that a yardstick run measured zmtp: ``zmq`` is the compatibility package, no libzmq loaded.

Loaded into pyzmq's test run as a pytest plugin (``-p yardstick_guard``) and called by
``trial_guarded.py`` around txZMQ's trial run. A yardstick that silently ran against a real
pyzmq would report libzmq's results as ours, so both ends of every run are checked: at start
(what ``import zmq`` resolves to) and at the end (that no test pulled libzmq into the process).

The plugin also records one outcome per test id in the JSON file named by
``YARDSTICK_RESULTS``; the runner compares those with the committed lists.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

_outcomes: dict[str, str] = {}
_skip_reasons: dict[str, str] = {}


def reference_run() -> bool:
    """Return whether this run measures real pyzmq (to record its counts), not zmtp."""
    return os.environ.get("YARDSTICK_MODE") == "reference"


def check_zmq_is_zmtp() -> None:
    """Fail unless ``import zmq`` gives the package ``python -m zmtp.compat --path`` points at."""
    zmq = importlib.import_module("zmq")

    compat = os.environ["YARDSTICK_COMPAT"]
    where = Path(zmq.__file__ or "").resolve()
    if not where.is_relative_to(Path(compat).resolve()):
        raise SystemExit(f"yardstick: `import zmq` resolved to {where}, not zmtp's {compat}")


def loaded_libzmq() -> list[str]:
    """Return the mapped files of this process that are a libzmq shared library."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line}
    return sorted(path for path in paths if "libzmq" in Path(path).name)


def check_no_libzmq() -> None:
    """Fail if a libzmq shared library is mapped into this process."""
    found = loaded_libzmq()
    if found:
        raise SystemExit(f"yardstick: libzmq is loaded in the test process: {found}")


def pytest_sessionstart(session: Any) -> None:
    """Check what ``zmq`` is before any test runs."""
    if not reference_run():
        check_zmq_is_zmtp()
        check_no_libzmq()


def pytest_runtest_logreport(report: Any) -> None:
    """Record one outcome per test: a failing setup or teardown is an error, as pytest counts it."""
    nodeid = report.nodeid
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.skipped:
            _outcomes[nodeid] = "skipped"
            longrepr = report.longrepr
            _skip_reasons[nodeid] = str(longrepr[2]) if isinstance(longrepr, tuple) else ""
        elif report.failed:
            _outcomes[nodeid] = "failed" if report.when == "call" else "error"
        else:
            _outcomes[nodeid] = "passed"
    elif report.when == "teardown" and report.failed:
        _outcomes[nodeid] = "error"


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Check again that no libzmq came in, then write the outcomes for the runner."""
    if not reference_run():
        check_no_libzmq()
    target = os.environ.get("YARDSTICK_RESULTS")
    if target:
        Path(target).write_text(
            json.dumps({"outcomes": _outcomes, "skip_reasons": _skip_reasons}, indent=1)
        )
