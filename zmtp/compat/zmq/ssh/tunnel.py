"""``zmq.ssh.tunnel``: reach a TCP endpoint through an SSH tunnel made by OpenSSH.

``tunnel_connection(sock, "tcp://10.0.0.5:5555", "user@gateway")`` forwards a free local port
to ``10.0.0.5:5555`` as seen from ``gateway`` (``ssh -L``) and connects ``sock`` to the local
end. Nothing here is ZeroMQ-specific: the tunnel carries the ZMTP bytes like any TCP stream.

The tunnel is OpenSSH's ``ssh -f``: it authenticates with the usual keys, agent and
``~/.ssh/config``, asks for a password on the terminal if it must, then stays in the
background for ``timeout`` seconds plus as long as a connection uses it. pyzmq's
alternatives are not provided: feeding a ``password`` argument to ssh (pyzmq uses pexpect)
and tunnels made in-process with paramiko (pyzmq's default on Windows) raise
NotImplementedError saying so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from typing import Any

__all__ = [
    "open_tunnel",
    "openssh_tunnel",
    "paramiko_tunnel",
    "select_random_ports",
    "ssh_tunnel",
    "try_passwordless_ssh",
    "tunnel_connection",
]


class MaxRetryExceeded(Exception):
    """pyzmq's error for a password prompt that kept coming back (kept for its importers)."""


def select_random_ports(n: int) -> list[int]:
    """Return ``n`` distinct TCP ports that were free a moment ago.

    All ``n`` are held open together while choosing, so the OS cannot hand out one twice.
    """
    held = []
    try:
        for _ in range(n):
            sock = socket.socket()
            held.append(sock)
            sock.bind(("", 0))
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def _ssh_command(server: str, keyfile: str | None) -> list[str]:
    """Return the ``ssh`` invocation for ``server`` (``[user@]host[:port]``) and ``keyfile``."""
    ssh = shutil.which("ssh")
    if ssh is None:
        raise FileNotFoundError("no 'ssh' command on PATH: OpenSSH's client is needed")
    command = [ssh]
    if keyfile:
        command += ["-i", keyfile]
    host, _, port = server.rpartition(":") if ":" in server else (server, "", "")
    if port:
        command += ["-p", port]
    return [*command, host]


def _refuse_unsupported(password: str | None, paramiko: bool | None) -> None:
    if paramiko:
        raise NotImplementedError(
            "paramiko tunnels are not provided by zmtp's zmq.ssh: OpenSSH's client is used"
        )
    if password is not None:
        raise NotImplementedError(
            "zmtp's zmq.ssh cannot type a password into ssh: use keys or an agent, or leave "
            "password=None and ssh asks on the terminal"
        )


def try_passwordless_ssh(server: str, keyfile: str | None, paramiko: bool | None = None) -> bool:
    """Say whether ``ssh server`` logs in without asking anything (keys or agent)."""
    _refuse_unsupported(None, paramiko)
    *ssh, host = _ssh_command(server, keyfile)
    env = {k: v for k, v in os.environ.items() if k != "SSH_ASKPASS"}
    result = subprocess.run(
        [*ssh, "-o", "BatchMode=yes", host, "exit"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        check=False,
    )
    return result.returncode == 0


def openssh_tunnel(  # noqa: PLR0917  (pyzmq's signature)
    lport: int,
    rport: int,
    server: str,
    remoteip: str = "127.0.0.1",
    keyfile: str | None = None,
    password: str | None = None,
    timeout: int = 60,
) -> int:
    """Forward 127.0.0.1:``lport`` here to ``remoteip``:``rport`` as ``server`` sees it.

    Returns once ssh has authenticated and the forwarding is listening (``-f`` with
    ExitOnForwardFailure); the tunnel closes once ``timeout`` seconds have passed and no
    connection uses it. Returns the pid of the ssh started (which has forked the tunnel
    into the background, as pyzmq's does). Raises RuntimeError if ssh fails.
    """
    _refuse_unsupported(password, None)
    *ssh, host = _ssh_command(server, keyfile)
    command = [
        *ssh,
        "-f",
        "-S",
        "none",
        "-o",
        "ExitOnForwardFailure=yes",
        "-L",
        f"127.0.0.1:{lport}:{remoteip}:{rport}",
        host,
        "sleep",
        str(timeout),
    ]
    # ssh's output is left on this process's stderr: a pipe would stay open in the
    # backgrounded ssh, and reading it to the end would wait for the tunnel to close.
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    if process.wait():
        raise RuntimeError(
            f"ssh tunnel to {server} failed with exit status {process.returncode} "
            "(ssh's message is on stderr)"
        )
    return process.pid


def paramiko_tunnel(*args: Any, **kwargs: Any) -> Any:
    """Refuse: pyzmq's in-process paramiko tunnel is not provided (see the module doc)."""
    _refuse_unsupported(None, True)


def open_tunnel(  # noqa: PLR0917  (pyzmq's signature)
    addr: str,
    server: str,
    keyfile: str | None = None,
    password: str | None = None,
    paramiko: bool | None = None,
    timeout: int = 60,
) -> tuple[str, int]:
    """Tunnel ``addr`` (``tcp://host:port``) through ``server``; return (local url, pid)."""
    _refuse_unsupported(password, paramiko)
    transport, _, location = addr.partition("://")
    host, _, port = location.rpartition(":")
    if transport != "tcp" or not host or not port.isdigit():
        raise ValueError(f"only tcp://host:port endpoints can be tunnelled, not {addr!r}")
    lport = select_random_ports(1)[0]
    pid = openssh_tunnel(lport, int(port), server, host.strip("[]"), keyfile, None, timeout)
    return f"tcp://127.0.0.1:{lport}", pid


def tunnel_connection(  # noqa: PLR0917  (pyzmq's signature)
    socket: Any,
    addr: str,
    server: str,
    keyfile: str | None = None,
    password: str | None = None,
    paramiko: bool | None = None,
    timeout: int = 60,
) -> int:
    """Connect ``socket`` to ``addr`` through an SSH tunnel via ``server``; return its pid."""
    url, pid = open_tunnel(addr, server, keyfile, password, paramiko, timeout)
    socket.connect(url)
    return pid


ssh_tunnel = paramiko_tunnel if sys.platform == "win32" else openssh_tunnel
