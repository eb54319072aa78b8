"""ipc:// — ZMTP over Unix domain stream sockets, with libzmq 4.3.5's endpoint rules.

* ``ipc://<path>``: a filesystem socket. Binding takes the path over from a previous owner (a
  stale file after a crash, or another live process), as libzmq does by unlinking it first.
* ``ipc://@<name>`` (Linux): the abstract namespace: a NUL byte then ``<name>``, with the exact
  length (no trailing NULs). ``ipc://@`` alone is EINVAL. A second bind of a name is EADDRINUSE.
* ``ipc://*`` (bind): a fresh ``tmpXXXXXX`` directory, made like mkdtemp (mode 0700) under the
  first of $TMPDIR, $TEMPDIR, $TMP that is a directory, else under the working directory, with
  a ``socket`` file inside; LAST_ENDPOINT reports it (``ipc:///tmp/tmpAb12Cd/socket``, or the
  relative ``ipc://tmpAb12Cd/socket``). libzmq treats any address *starting* with ``*`` so.
  For connect, ``*`` is just a relative path, as in libzmq.
* A path of 108 bytes or more (``sizeof(sun_path)``; 104 on the BSDs) is ENAMETOOLONG, for
  bind and connect, abstract names counted with their ``@``.

Two deliberate differences from libzmq 4.3.5, both about not touching files that are not ours:
libzmq unlinks *whatever* is at the path before binding (a regular file included, and for
``ipc://@name`` a file called ``@name`` in the working directory); here only a socket is
removed, so binding over a regular file is EADDRINUSE. libzmq 4.3.5 leaves the socket file
behind on unbind and close (it removes only the ``ipc://*`` directory and its file); here
:meth:`IpcTransport.unlisten` removes the file too, but only if it is still the one this
listener created (same device and inode), so a process that took the path over keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import stat
import string
import struct
import sys
from dataclasses import dataclass

from transports.base import (
    Listening,
    PeerSocket,
    ProtocolFactory,
    StreamTransport,
    TransportOptions,
)
from zmtp.constants import Errno
from zmtp.errors import ZMQError, zmq_error

__all__ = ["IpcTransport"]

# sizeof(struct sockaddr_un.sun_path): libzmq's ipc_address_t::resolve refuses a path whose
# strlen() is >= this (it needs room for the terminating NUL).
SUN_PATH_SIZE = 108 if sys.platform.startswith("linux") else 104

_TMP_VARIABLES = ("TMPDIR", "TEMPDIR", "TMP")  # libzmq ip.cpp tmp_env_vars, in this order
_MKDTEMP_ALPHABET = string.ascii_letters + string.digits  # glibc mkdtemp's XXXXXX letters
_MKDTEMP_ATTEMPTS = 100


@dataclass(frozen=True, slots=True)
class BoundFile:
    """What ``unlisten`` must remove: the socket file (if still ours) and the ``*`` directory."""

    path: str  # absolute, so a later chdir() cannot make unlisten miss or hit another file
    device_inode: tuple[int, int] | None  # None: abstract socket, no file
    directory: str | None  # the ipc://* directory


def _endpoint(address: str) -> str:
    return f"ipc://{address}"


def encoded_path(address: str, endpoint: str) -> bytes:
    """Return the address bytes for ``sun_path`` (``@`` becomes NUL) after libzmq's checks."""
    if "\0" in address:
        raise zmq_error(Errno.EINVAL, f"{endpoint}: the path contains a NUL character")
    raw = os.fsencode(address)
    if len(raw) >= SUN_PATH_SIZE:
        raise zmq_error(
            Errno.ENAMETOOLONG,
            f"{endpoint}: the path is {len(raw)} bytes; ipc paths can be at most "
            f"{SUN_PATH_SIZE - 1} bytes (sizeof sun_path, less its terminating NUL)",
        )
    if raw == b"@":
        raise zmq_error(Errno.EINVAL, f"{endpoint}: an abstract socket name needs text after '@'")
    if raw.startswith(b"@"):
        return b"\0" + raw[1:]
    return raw


def _temporary_base() -> str:
    """Return libzmq's parent for ``ipc://*``: $TMPDIR, $TEMPDIR or $TMP, else the cwd."""
    for variable in _TMP_VARIABLES:
        value = os.environ.get(variable)
        if value and os.path.isdir(value):
            return value if value.endswith("/") else value + "/"
    return ""  # relative: libzmq then creates "tmpXXXXXX" in the working directory


def make_wildcard_directory(endpoint: str) -> str:
    """Create ``<base>tmpXXXXXX`` with mode 0700, as libzmq's mkdtemp("…tmpXXXXXX") does.

    Python's tempfile.mkdtemp would name it ``tmp`` + 8 lowercase characters; libzmq's
    LAST_ENDPOINT has glibc's six mixed-case letters and digits, which is reproduced here.
    """
    base = _temporary_base()
    for _ in range(_MKDTEMP_ATTEMPTS):
        suffix = "".join(secrets.choice(_MKDTEMP_ALPHABET) for _ in range(6))
        candidate = f"{base}tmp{suffix}"
        try:
            os.mkdir(candidate, 0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise zmq_error(
                exc.errno or Errno.EINVAL,
                f"{endpoint}: cannot create a directory for the socket in "
                f"{base or 'the working directory'}: {exc.strerror}",
            ) from exc
        return candidate
    raise zmq_error(Errno.EADDRINUSE, f"{endpoint}: no free tmpXXXXXX name in {base or '.'}")


def remove_stale_socket(path: str) -> None:
    """Take a filesystem path over as libzmq does, but only if a socket is there.

    libzmq calls unlink() on anything at the path; a regular file or a symlink is left alone
    here, and bind() then fails with EADDRINUSE.
    """
    try:
        status = os.lstat(path)
    except OSError:
        return
    if stat.S_ISSOCK(status.st_mode):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def remove_bound_file(bound: BoundFile) -> None:
    """Unlink the socket file if it is still the one we bound, then the ``*`` directory."""
    if bound.device_inode is not None:
        try:
            status = os.lstat(bound.path)
        except OSError:
            status = None
        if status is not None and (status.st_dev, status.st_ino) == bound.device_inode:
            with contextlib.suppress(OSError):
                os.unlink(bound.path)
    if bound.directory is not None:
        with contextlib.suppress(OSError):  # not empty: someone else put a file there
            os.rmdir(bound.directory)


class IpcTransport(StreamTransport):
    """The ipc:// scheme: Unix domain stream sockets, filesystem or abstract."""

    scheme = "ipc"

    def __init__(self) -> None:
        # One shared instance serves every socket (the registry caches it); unlisten needs to
        # know which file each listener created. Entries leave in unlisten().
        self._bound: dict[asyncio.AbstractServer, BoundFile] = {}

    def check_bind(self, address: str, options: TransportOptions) -> None:
        """Refuse names libzmq refuses; ``*…`` is a wildcard, checked again once generated."""
        if not address.startswith("*"):
            encoded_path(address, _endpoint(address))

    def check_connect(self, address: str, options: TransportOptions) -> None:
        """Refuse names libzmq's connect refuses (the path need not exist yet)."""
        encoded_path(address, _endpoint(address))

    async def listen(
        self, address: str, options: TransportOptions, factory: ProtocolFactory
    ) -> Listening:
        """Bind (taking a socket path over), listen with BACKLOG; LAST_ENDPOINT as libzmq."""
        endpoint = _endpoint(address)
        self.check_bind(address, options)
        directory = None
        if address.startswith("*"):
            directory = make_wildcard_directory(endpoint)
            address = f"{directory}/socket"
        try:
            raw = encoded_path(address, endpoint)
            abstract = raw.startswith(b"\0")
            if not abstract:
                remove_stale_socket(address)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                try:
                    sock.bind(raw)
                except OSError as exc:
                    raise zmq_error(
                        exc.errno or Errno.EINVAL,
                        f"{endpoint}: cannot bind {address!r}: {exc.strerror}",
                    ) from exc
                bound = BoundFile(
                    os.path.abspath(address),
                    None if abstract else device_inode(address),
                    os.path.abspath(directory) if directory is not None else None,
                )
                try:
                    server = await asyncio.get_running_loop().create_unix_server(
                        factory, sock=sock, backlog=options.backlog
                    )
                except OSError as exc:
                    remove_bound_file(bound)
                    raise zmq_error(
                        exc.errno or Errno.EINVAL, f"{endpoint}: cannot listen: {exc}"
                    ) from exc
            except BaseException:
                sock.close()
                raise
        except BaseException:
            if directory is not None:
                with contextlib.suppress(OSError):
                    os.rmdir(directory)
            raise
        self._bound[server] = bound
        return Listening(server, _endpoint(address))

    def unlisten(self, listening: Listening) -> None:
        """Remove the socket file this listener created, and the ``ipc://*`` directory."""
        bound = self._bound.pop(listening.server, None)
        if bound is not None:
            remove_bound_file(bound)

    async def open(
        self, address: str, options: TransportOptions, factory: ProtocolFactory
    ) -> asyncio.Transport:
        """Connect once; ENOENT/ECONNREFUSED (nobody bound yet) come back as OSError."""
        try:
            raw = encoded_path(address, _endpoint(address))
        except ZMQError as exc:
            raise OSError(exc.errno, str(exc)) from exc
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            # libzmq's CONNECT_TIMEOUT applies to tcp only (tcp_connecter_t); a Unix socket
            # connect completes or fails at once.
            await loop.sock_connect(sock, raw)
            transport, _ = await loop.create_unix_connection(factory, sock=sock)
        except BaseException:
            sock.close()
            raise
        return transport

    def socket_peer_address(self, sock: PeerSocket) -> bytes:
        """Return libzmq's ipc peer address: ``localhost:<uid>:<gid>:<pid>`` (Linux).

        libzmq's get_peer_address() formats the AF_UNIX peer with getnameinfo(NI_NUMERICHOST),
        which glibc answers with "localhost", then appends SO_PEERCRED's ``:uid:gid:pid``.
        That is the ZAP Address and the Peer-Address property a libzmq peer sees
        (checked with pyzmq: ``localhost:0:0:17591``). Without SO_PEERCRED: b"".
        """
        peercred = getattr(socket, "SO_PEERCRED", None)
        if peercred is None:
            return b""
        size = struct.calcsize("iII")  # struct ucred: pid_t pid; uid_t uid; gid_t gid
        try:
            raw = sock.getsockopt(socket.SOL_SOCKET, peercred, size)
        except OSError:
            return b""
        pid, uid, gid = struct.unpack("iII", raw)
        return f"localhost:{uid}:{gid}:{pid}".encode("ascii")


def device_inode(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino
