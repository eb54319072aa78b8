"""pyzmq's names for zero-copy frames and trackers under ``import zmq``, and pyzmq's reprs."""

from __future__ import annotations

import os
import subprocess
import sys

import zmtp.compat

PROGRAM = """
import gc, zmq
from zmq.utils.garbage import gc as zmq_gc

assert zmq.COPY_THRESHOLD == 65536
assert zmq.MessageTracker is zmq.sugar.tracker.MessageTracker
frame = zmq.Frame(b"x" * 10, copy=False, track=True)
tracker = zmq.MessageTracker(frame)
print(len(zmq_gc.refs), tracker.done)
del frame
gc.collect()
print(len(zmq_gc.refs), tracker.done, zmq._FINISHED_TRACKER.done)
print(zmq.Frame(b"abc"))
with zmq.Context() as ctx:
    sock = ctx.socket(zmq.PUSH)
    print(repr(sock).split(" at ")[0])
    sock.close()
"""


def test_trackers_the_garbage_registry_and_reprs_carry_pyzmqs_names() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": zmtp.compat.path()},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1 False",
        "0 True True",
        "<zmq.Frame(b'abc')>",
        "<zmq.Socket(zmq.PUSH)",
    ]
