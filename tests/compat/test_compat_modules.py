"""pyzmq's module layout in the compatibility package: sugar, version, log, decorators, ssh.

Each test runs a short program in a fresh interpreter whose ``import zmq`` is the compatibility
package (the test environment also has real pyzmq, which must not answer).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import zmtp.compat


def run_as_zmq(source: str, path_prefix: str = "") -> list[str]:
    """Run ``source`` with ``import zmq`` resolving to zmtp; return its output lines."""
    env = {**os.environ, "PYTHONPATH": zmtp.compat.path()}
    if path_prefix:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_sugar_is_pyzmqs_layout_over_zmtps_classes() -> None:
    out = run_as_zmq(
        "import zmq, zmtp\n"
        "from zmq.sugar import context, socket, frame, poll, version, attrsettr, stopwatch\n"
        "print(context.Context is zmq.Context is zmtp.Context, socket.Socket is zmtp.Socket)\n"
        "print(frame.Message is frame.Frame is zmtp.Frame, poll.Poller is zmtp.Poller)\n"
        "print(all(hasattr(zmq, name) for name in zmq.__all__))\n"
        "print(all(n in zmq.__all__ for n in ('RCVTIMEO', 'SocketOption', 'Context')))\n"
        "print(repr(zmq.Context()).startswith('<zmq.Context() at 0x'))\n"
    )
    assert out == ["True True", "True True", "True", "True", "True"]


def test_versions_name_the_libzmq_behaviour_and_the_pyzmq_api_followed() -> None:
    out = run_as_zmq(
        "import zmq, zmtp\n"
        "from zmq.sugar import version\n"
        "print(zmq.zmq_version(), zmq.zmq_version_info())\n"
        "print(zmq.pyzmq_version() == zmq.__version__ == f'27.2.0+zmtp.{zmtp.__version__}')\n"
        "print(zmq.pyzmq_version_info(), version.VERSION_EXTRA in zmq.__version__)\n"
        "print(zmq.pyzmq_version_info() >= (27, 2, 0), repr(zmq.__revision__))\n"
    )
    assert out == ["4.3.5 (4, 3, 5)", "True", "(27, 2, 0, inf) True", "True ''"]


def test_has_answers_for_zmtp() -> None:
    out = run_as_zmq(
        "import zmq\n"
        "print([zmq.has(n) for n in ('ipc', 'curve', 'pgm', 'tipc', 'norm', 'gssapi', 'draft')])\n"
        "print(zmq.DRAFT_API, zmq.IPC_PATH_MAX_LEN)\n"
    )
    expected_max = 107 if sys.platform.startswith("linux") else 103
    assert out == [
        "[True, True, False, False, False, False, False]",
        f"False {expected_max}",
    ]


def test_zmq_poll_polls_socket_event_pairs() -> None:
    out = run_as_zmq(
        "import zmq\n"
        "ctx = zmq.Context()\n"
        "a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)\n"
        "a.bind('inproc://p'); b.connect('inproc://p')\n"
        "print(zmq.zmq_poll([(a, zmq.POLLIN)], 0))\n"
        "b.send(b'x')\n"
        "print(zmq.zmq_poll([(a, zmq.POLLIN)], 5000) == [(a, zmq.POLLIN)])\n"
        "a.close(); b.close(); ctx.term()\n"
    )
    assert out == ["[]", "True"]


def test_strtypes_casts_and_warns_as_deprecated() -> None:
    out = run_as_zmq(
        "import warnings\n"
        "from zmq.utils import strtypes\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    print(strtypes.cast_bytes('é'), strtypes.u('é'.encode()), strtypes.b('x'))\n"
        "print([w.category.__name__ for w in caught])\n"
    )
    assert out == ["b'\\xc3\\xa9' é b'x'", "['DeprecationWarning', 'DeprecationWarning', "
                   "'DeprecationWarning']"]  # fmt: skip


def test_pubhandler_publishes_records_under_dotted_topics() -> None:
    out = run_as_zmq(
        "import logging, zmq\n"
        "from zmq.log.handlers import PUBHandler, TopicLogger\n"
        "ctx = zmq.Context()\n"
        "sub = ctx.socket(zmq.SUB); sub.rcvtimeo = 5000\n"
        "sub.bind('inproc://log'); sub.subscribe(b'')\n"
        "pub = ctx.socket(zmq.PUB); pub.connect('inproc://log')\n"
        "handler = PUBHandler(pub, root_topic='app')\n"
        "logging.setLoggerClass(TopicLogger)\n"
        "log = logging.getLogger('zmtp-test'); log.setLevel(logging.DEBUG)\n"
        "log.propagate = False; log.addHandler(handler)\n"
        "log.info('db.slow', 'took %ds', 3)\n"
        "print(sub.recv_multipart())\n"
        "handler.setRootTopic(b'')\n"
        "handler.setFormatter(logging.Formatter('%(levelname)s|%(message)s'))\n"
        "log.warning('net', 'down')\n"
        "print(sub.recv_multipart())\n"
        "pub.close(); sub.close(); ctx.term()\n"
    )
    assert out == ["[b'app.INFO.db.slow', b'took 3s\\n']", "[b'WARNING.net', b'WARNING|down']"]


def test_decorators_give_each_call_its_own_context_and_sockets() -> None:
    out = run_as_zmq(
        "import zmq\n"
        "from zmq.decorators import context, socket\n"
        "kept = []\n"
        "@context('ctx', io_threads=2)\n"
        "@socket('push', zmq.PUSH, context_name='ctx')\n"
        "def work(tag, ctx, push):\n"
        "    kept.append((ctx, push))\n"
        "    return tag, ctx.io_threads, push.type == zmq.PUSH, push.context is ctx\n"
        "print(work('a'))\n"
        "ctx, push = kept[0]\n"
        "print(ctx.closed, push.closed)\n"
        "@socket(zmq.PULL)\n"
        "def default(pull):\n"
        "    return pull.context is zmq.Context.instance()\n"
        "print(default())\n"
        "zmq.Context.instance().term()\n"
    )
    assert out == ["('a', 2, True, True)", "True True", "True"]


def test_ssh_tunnel_runs_openssh_with_a_local_forward(tmp_path: Path) -> None:
    """A stand-in ``ssh`` on PATH records its arguments: the tunnel is ``ssh -f -L``."""
    fake = tmp_path / "ssh"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\nexit 0\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = run_as_zmq(
        "import zmq\n"
        "from zmq.ssh import tunnel\n"
        "ports = tunnel.select_random_ports(20)\n"
        "print(len(set(ports)) == 20)\n"
        "class Recorder:\n"
        "    def connect(self, url): print(url.startswith('tcp://127.0.0.1:'))\n"
        "tunnel.tunnel_connection(Recorder(), 'tcp://10.0.0.5:5555', 'me@gw:2222', timeout=9)\n"
        "for bad in ({'password': 'x'}, {'paramiko': True}):\n"
        "    try:\n"
        "        tunnel.open_tunnel('tcp://10.0.0.5:5555', 'gw', **bad)\n"
        "    except NotImplementedError:\n"
        "        print('refused')\n",
        path_prefix=str(tmp_path),
    )
    assert out == ["True", "True", "refused", "refused"]
    args = (tmp_path / "args").read_text().split()
    assert args[:2] == ["-p", "2222"]
    assert "-f" in args and "ExitOnForwardFailure=yes" in args
    forward = args[args.index("-L") + 1]
    assert forward.startswith("127.0.0.1:") and forward.endswith(":10.0.0.5:5555")
    assert args[-3:] == ["me@gw", "sleep", "9"]
