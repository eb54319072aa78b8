"""``zmq.asyncio`` under the compatibility package: zmtp.asyncio, with pyzmq's extra names."""

from __future__ import annotations

import os
import subprocess
import sys

import zmtp.compat


def run_as_zmq(source: str) -> list[str]:
    """Run ``source`` where ``import zmq`` is the compatibility package; its output lines."""
    env = {**os.environ, "PYTHONPATH": zmtp.compat.path()}
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", source],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_zmq_asyncio_is_zmtp_asyncio_with_pyzmq_reprs() -> None:
    lines = run_as_zmq(
        "import zmq.asyncio, zmtp.asyncio\n"
        "from zmtp.asyncio import Poller, Socket\n"
        "print(zmq.asyncio.Socket is Socket, zmq.asyncio.Poller is Poller)\n"
        "ctx = zmq.asyncio.Context()\n"
        "s = ctx.socket(zmq.PUSH)\n"
        "print(repr(s).split(' at ')[0], repr(ctx).split(' at ')[0])\n"
        "s.close(); ctx.term()\n"
    )
    assert lines == ["True True", "<zmq.asyncio.Socket(zmq.PUSH) <zmq.asyncio.Context(1 socket)"]


def test_the_deprecated_event_loop_and_install_only_warn() -> None:
    lines = run_as_zmq(
        "import asyncio, warnings, zmq.asyncio\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    zmq.asyncio.install()\n"
        "    loop = zmq.asyncio.ZMQEventLoop()\n"
        "print([w.category.__name__ for w in caught])\n"
        "async def main():\n"
        "    ctx = zmq.asyncio.Context()\n"
        "    pull, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)\n"
        "    pull.bind('inproc://old-loop'); push.connect('inproc://old-loop')\n"
        "    await push.send(b'runs')\n"
        "    print((await asyncio.wait_for(pull.recv(), 5)).decode())\n"
        "    pull.close(); push.close(); ctx.term()\n"
        "loop.run_until_complete(main()); loop.close()\n"
    )
    assert lines == ["['DeprecationWarning', 'DeprecationWarning']", "runs"]
