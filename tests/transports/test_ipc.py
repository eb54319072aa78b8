"""ipc:// endpoints, listeners and connections, checked against libzmq 4.3.5 (pyzmq).

Paths live in pytest's temporary directories (kept short: sun_path holds 107 bytes) and
abstract names carry a random suffix, so parallel runs cannot collide.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import secrets
import socket
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

import transports.ipc as ipc_module
from transports import get_transport, parse_endpoint
from transports.base import Listening, TransportOptions
from transports.ipc import SUN_PATH_SIZE, IpcTransport
from zmtp.errors import ZMQError

TIMEOUT = 5.0
OPTIONS = TransportOptions()
LINUX = sys.platform.startswith("linux")
needs_linux = pytest.mark.skipif(not LINUX, reason="abstract sockets and SO_PEERCRED are Linux")


@pytest.fixture(scope="module")
def zctx() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield context
    context.term()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A fresh directory with a short path (pytest's tmp_path can be long)."""
    base = Path("/tmp") if Path("/tmp").is_dir() else Path.cwd()
    directory = base / f"zi{secrets.token_hex(4)}"
    directory.mkdir(mode=0o700)
    yield directory
    for child in sorted(directory.rglob("*"), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.rmdir()
        else:
            child.unlink()
    directory.rmdir()


def _abstract_name() -> str:
    return f"@zmtp-test-{secrets.token_hex(6)}"


def _wait_until_released(name: str) -> None:
    """Wait (bounded) until libzmq has closed its listener on abstract ``name``.

    libzmq closes a listener in its I/O thread after zmq_close() returns, so the name can
    still be taken for a moment.
    """
    deadline = time.monotonic() + TIMEOUT
    while True:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.bind(b"\0" + name[1:].encode())
            except OSError:
                if time.monotonic() > deadline:
                    raise
            else:
                return
        time.sleep(0.01)


def libzmq_result(context: zmq.Context[zmq.Socket[bytes]], op: str, endpoint: str) -> int | None:
    sock = context.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        getattr(sock, op)(endpoint)
    except zmq.ZMQError as exc:
        return exc.errno
    finally:
        sock.close()
    return None


async def _listen(
    transport: IpcTransport, address: str, factory: Any = asyncio.Protocol
) -> Listening:
    return await transport.listen(address, OPTIONS, factory)


def _stop(transport: IpcTransport, listening: Listening) -> None:
    listening.server.close()
    transport.unlisten(listening)


def our_result(op: str, endpoint: str) -> int | None:
    try:
        scheme, address = parse_endpoint(endpoint)
        transport = get_transport(scheme)
        if op == "bind":
            transport.check_bind(address, OPTIONS)

            async def bind_and_release() -> None:
                listening = await transport.listen(address, OPTIONS, asyncio.Protocol)
                listening.server.close()
                transport.unlisten(listening)

            asyncio.run(bind_and_release())
        else:
            transport.check_connect(address, OPTIONS)
    except ZMQError as exc:
        return exc.errno
    return None


def _name(number: int | None) -> str:
    return "OK" if number is None else errno.errorcode.get(number, str(number))


def _path_of_length(directory: Path, length: int) -> str:
    prefix = f"{directory}/"
    assert len(prefix) < length
    return prefix + "x" * (length - len(prefix))


# -- endpoint errors against libzmq ---------------------------------------------------------


def _cases(directory: Path) -> list[tuple[str, str]]:
    """(endpoint, op) pairs; built per test because the directory is per test."""
    (directory / "adir").mkdir()
    endpoints = [
        "ipc://@",
        "ipc://" + _path_of_length(directory, SUN_PATH_SIZE - 1),  # longest that fits
        "ipc://" + _path_of_length(directory, SUN_PATH_SIZE),  # ENAMETOOLONG
        "ipc://" + _path_of_length(directory, SUN_PATH_SIZE + 20),
        "ipc://@" + "a" * (SUN_PATH_SIZE - 2),  # abstract: the '@' counts
        "ipc://@" + "a" * (SUN_PATH_SIZE - 1),
        f"ipc://{directory}/nodir/sock",  # bind: ENOENT; connect: fine until attempted
        f"ipc://{directory}/adir",  # a directory is in the way: EADDRINUSE
        f"ipc://{directory}/a b é",
        f"ipc://{_abstract_name()}",
    ]
    return [(endpoint, op) for endpoint in endpoints for op in ("bind", "connect")]


def test_errnos_match_libzmq(zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path) -> None:
    mismatches = []
    for endpoint, op in _cases(short_dir):
        if endpoint.startswith("ipc://@") and len(endpoint) > 7 and not LINUX:
            continue
        theirs = libzmq_result(zctx, op, endpoint)
        # libzmq 4.3.5 leaves its socket file behind after close: remove it before our turn,
        # or we would be testing takeover rather than the endpoint.
        path = endpoint.removeprefix("ipc://")
        if path.startswith("@") and theirs is None and op == "bind":
            _wait_until_released(path)
        elif os.path.lexists(path) and not os.path.isdir(path):
            os.unlink(path)
        ours = our_result(op, endpoint)
        if _name(ours) != _name(theirs):
            mismatches.append((op, endpoint, _name(theirs), _name(ours)))
    assert mismatches == []


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("ipc://@", errno.EINVAL),
        ("ipc://", errno.EINVAL),
    ],
)
@pytest.mark.parametrize("op", ["bind", "connect"])
def test_empty_names(
    zctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, expected: int, op: str
) -> None:
    assert libzmq_result(zctx, op, endpoint) == expected
    assert our_result(op, endpoint) == expected


def test_messages_name_the_endpoint_and_the_problem(short_dir: Path) -> None:
    long_path = _path_of_length(short_dir, SUN_PATH_SIZE)
    with pytest.raises(ZMQError) as caught:
        IpcTransport().check_connect(long_path, OPTIONS)
    assert caught.value.errno == errno.ENAMETOOLONG
    assert f"ipc://{long_path}" in str(caught.value)
    assert f"{SUN_PATH_SIZE} bytes" in str(caught.value)
    with pytest.raises(ZMQError) as caught:
        IpcTransport().check_bind("@", OPTIONS)
    assert "ipc://@" in str(caught.value) and "after '@'" in str(caught.value)


@pytest.mark.asyncio
async def test_bind_in_a_missing_directory_names_the_path(short_dir: Path) -> None:
    with pytest.raises(ZMQError) as caught:
        await _listen(IpcTransport(), f"{short_dir}/nodir/sock")
    assert caught.value.errno == errno.ENOENT
    assert f"ipc://{short_dir}/nodir/sock" in str(caught.value)


# -- LAST_ENDPOINT and ipc://* ----------------------------------------------------------------

_WILDCARD = re.compile(r"^ipc://(?P<parent>.*?)tmp[A-Za-z0-9]{6}/socket$")


def _libzmq_last_endpoint(
    context: zmq.Context[zmq.Socket[bytes]], endpoint: str = "ipc://*"
) -> str:
    sock = context.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.bind(endpoint)
        return sock.getsockopt_string(zmq.LAST_ENDPOINT)
    finally:
        sock.close()


def _clear_tmp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("TMPDIR", "TEMPDIR", "TMP"):
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.asyncio
@pytest.mark.parametrize("trailing_slash", [False, True])
async def test_wildcard_under_tmpdir(
    zctx: zmq.Context[zmq.Socket[bytes]],
    short_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    trailing_slash: bool,
) -> None:
    _clear_tmp_variables(monkeypatch)
    monkeypatch.setenv("TMPDIR", f"{short_dir}/" if trailing_slash else str(short_dir))
    theirs = _libzmq_last_endpoint(zctx)
    transport = IpcTransport()
    listening = await _listen(transport, "*")
    match = _WILDCARD.match(listening.endpoint)
    assert match is not None, listening.endpoint
    their_match = _WILDCARD.match(theirs)
    assert their_match is not None, theirs
    assert match["parent"] == their_match["parent"] == f"{short_dir}/"
    path = listening.endpoint.removeprefix("ipc://")
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    _stop(transport, listening)
    # libzmq removes the directory on close, and so does unlisten.
    assert not os.path.exists(os.path.dirname(path))
    assert not os.path.exists(os.path.dirname(theirs.removeprefix("ipc://")))


@pytest.mark.asyncio
async def test_wildcard_skips_variables_that_are_not_directories(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_tmp_variables(monkeypatch)
    (short_dir / "afile").write_text("")
    (short_dir / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(short_dir / "afile"))
    monkeypatch.setenv("TEMPDIR", str(short_dir / "missing"))
    monkeypatch.setenv("TMP", str(short_dir / "tmp"))
    theirs = _libzmq_last_endpoint(zctx)
    transport = IpcTransport()
    listening = await _listen(transport, "*")
    try:
        for endpoint in (theirs, listening.endpoint):
            match = _WILDCARD.match(endpoint)
            assert match is not None and match["parent"] == f"{short_dir}/tmp/"
    finally:
        _stop(transport, listening)


@pytest.mark.asyncio
async def test_wildcard_without_variables_is_relative_to_the_cwd(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_tmp_variables(monkeypatch)
    monkeypatch.chdir(short_dir)
    theirs = _libzmq_last_endpoint(zctx)
    transport = IpcTransport()
    listening = await _listen(transport, "*")
    try:
        for endpoint in (theirs, listening.endpoint):
            match = _WILDCARD.match(endpoint)
            assert match is not None and match["parent"] == "", endpoint
        assert (short_dir / listening.endpoint.removeprefix("ipc://")).exists()
    finally:
        _stop(transport, listening)
    assert list(short_dir.iterdir()) == []


@pytest.mark.asyncio
async def test_anything_starting_with_a_star_is_a_wildcard_bind(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libzmq's ipc_listener_t tests addr[0] == '*'.
    _clear_tmp_variables(monkeypatch)
    monkeypatch.setenv("TMPDIR", str(short_dir))
    assert _WILDCARD.match(_libzmq_last_endpoint(zctx, "ipc://*.sock"))
    transport = IpcTransport()
    listening = await _listen(transport, "*.sock")
    assert _WILDCARD.match(listening.endpoint)
    _stop(transport, listening)


def test_star_is_a_plain_relative_path_for_connect(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    assert libzmq_result(zctx, "connect", "ipc://*") is None
    assert our_result("connect", "ipc://*") is None


@pytest.mark.asyncio
async def test_wildcard_too_long_is_enametoolong_and_cleans_up(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_tmp_variables(monkeypatch)
    deep = Path(_path_of_length(short_dir, SUN_PATH_SIZE - len("/tmpXXXXXX/socket") + 1))
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    assert libzmq_result(zctx, "bind", "ipc://*") == errno.ENAMETOOLONG
    with pytest.raises(ZMQError) as caught:
        await _listen(IpcTransport(), "*")
    assert caught.value.errno == errno.ENAMETOOLONG
    assert list(deep.iterdir()) == []  # both removed the directory they made


@pytest.mark.asyncio
async def test_last_endpoint_of_paths_is_the_path_as_given(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(short_dir)
    transport = IpcTransport()
    for address in (f"{short_dir}/abs.sock", "rel.sock", "./dot.sock"):
        theirs = _libzmq_last_endpoint(zctx, f"ipc://{address}")
        os.unlink(address)  # libzmq 4.3.5 leaves it behind
        listening = await _listen(transport, address)
        assert listening.endpoint == theirs == f"ipc://{address}"
        _stop(transport, listening)


@needs_linux
@pytest.mark.asyncio
async def test_abstract_last_endpoint(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    theirs = _abstract_name()
    assert _libzmq_last_endpoint(zctx, f"ipc://{theirs}") == f"ipc://{theirs}"
    name = _abstract_name()
    transport = IpcTransport()
    listening = await _listen(transport, name)
    assert listening.endpoint == f"ipc://{name}"
    # The address is exactly NUL + name, no padding: a peer using that name reaches it.
    sockname = listening.server.sockets[0].getsockname()
    assert sockname in (f"\0{name[1:]}", f"\0{name[1:]}".encode())
    _stop(transport, listening)


# -- listen and open --------------------------------------------------------------------------


class Peer(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.data = bytearray()
        self.made = asyncio.Event()
        self.arrived = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.made.set()

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.arrived.set()

    async def read(self, size: int) -> bytes:
        while len(self.data) < size:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), TIMEOUT)
        return bytes(self.data[:size])


class Server:
    def __init__(self) -> None:
        self.accepted: list[Peer] = []
        self.new = asyncio.Event()

    def factory(self) -> Peer:
        peer = Peer()
        self.accepted.append(peer)
        self.new.set()
        return peer

    async def next(self) -> Peer:
        await asyncio.wait_for(self.new.wait(), TIMEOUT)
        self.new.clear()
        peer = self.accepted[-1]
        await asyncio.wait_for(peer.made.wait(), TIMEOUT)
        return peer


async def _round_trip(address: str) -> None:
    transport = IpcTransport()
    server = Server()
    listening = await _listen(transport, address, server.factory)
    client = Peer()
    opened = await asyncio.wait_for(
        transport.open(listening.endpoint.removeprefix("ipc://"), OPTIONS, lambda: client),
        TIMEOUT,
    )
    try:
        accepted = await server.next()
        assert client.transport is opened and accepted.transport is not None
        opened.write(b"ping")
        assert await accepted.read(4) == b"ping"
        accepted.transport.write(b"pong")
        assert await client.read(4) == b"pong"
        accepted.transport.close()
    finally:
        opened.close()
        _stop(transport, listening)


@pytest.mark.asyncio
async def test_round_trip_on_a_path(short_dir: Path) -> None:
    await _round_trip(f"{short_dir}/rt.sock")
    assert not (short_dir / "rt.sock").exists()


@needs_linux
@pytest.mark.asyncio
async def test_round_trip_on_an_abstract_name() -> None:
    await _round_trip(_abstract_name())


@pytest.mark.asyncio
async def test_round_trip_on_a_wildcard(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_tmp_variables(monkeypatch)
    monkeypatch.setenv("TMPDIR", str(short_dir))
    await _round_trip("*")
    assert list(short_dir.iterdir()) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("abstract", [False, True])
async def test_libzmq_connects_to_us_and_we_to_libzmq(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path, abstract: bool
) -> None:
    if abstract and not LINUX:
        pytest.skip("abstract sockets are Linux")
    address = _abstract_name() if abstract else f"{short_dir}/z.sock"
    transport = IpcTransport()
    server = Server()
    listening = await _listen(transport, address, server.factory)
    zsock = zctx.socket(zmq.DEALER)
    zsock.setsockopt(zmq.LINGER, 0)
    try:
        zsock.connect(listening.endpoint)
        accepted = await server.next()
        greeting = await accepted.read(10)
        assert greeting[0] == 0xFF and greeting[9] == 0x7F  # ZMTP signature
    finally:
        zsock.close()
        _stop(transport, listening)
    zsock = zctx.socket(zmq.DEALER)
    zsock.setsockopt(zmq.LINGER, 0)
    try:
        zsock.bind(f"ipc://{address}")
        client = Peer()
        opened = await asyncio.wait_for(transport.open(address, OPTIONS, lambda: client), TIMEOUT)
        greeting = await client.read(10)
        assert greeting[0] == 0xFF and greeting[9] == 0x7F
        opened.close()
    finally:
        zsock.close()


@pytest.mark.asyncio
async def test_open_failures_are_oserrors(short_dir: Path) -> None:
    transport = IpcTransport()
    with pytest.raises(OSError) as caught:
        await transport.open(f"{short_dir}/nobody", OPTIONS, asyncio.Protocol)
    assert caught.value.errno == errno.ENOENT
    # A socket file whose listener is gone (a crashed process): refused.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(f"{short_dir}/stale")
    stale.close()
    with pytest.raises(OSError) as caught:
        await transport.open(f"{short_dir}/stale", OPTIONS, asyncio.Protocol)
    assert caught.value.errno == errno.ECONNREFUSED
    with pytest.raises(OSError) as caught:
        await transport.open("@", OPTIONS, asyncio.Protocol)
    assert caught.value.errno == errno.EINVAL


# -- taking paths over, and giving them back --------------------------------------------------


@pytest.mark.asyncio
async def test_we_take_a_path_over_from_libzmq(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path
) -> None:
    path = f"{short_dir}/t.sock"
    zsock = zctx.socket(zmq.PAIR)
    zsock.setsockopt(zmq.LINGER, 0)
    zsock.bind(f"ipc://{path}")
    transport = IpcTransport()
    server = Server()
    try:
        listening = await _listen(transport, path, server.factory)
        client = Peer()
        opened = await asyncio.wait_for(transport.open(path, OPTIONS, lambda: client), TIMEOUT)
        await server.next()  # the new connection reached us, not libzmq
        opened.close()
        _stop(transport, listening)
    finally:
        zsock.close()


@pytest.mark.asyncio
async def test_libzmq_takes_a_path_over_and_our_unlisten_leaves_its_file(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path
) -> None:
    path = f"{short_dir}/t.sock"
    transport = IpcTransport()
    listening = await _listen(transport, path)
    zsock = zctx.socket(zmq.PAIR)
    zsock.setsockopt(zmq.LINGER, 0)
    try:
        assert libzmq_result(zctx, "bind", f"ipc://{path}") is None  # libzmq takes it over
        zsock.bind(f"ipc://{path}")
        _stop(transport, listening)
        assert stat.S_ISSOCK(os.stat(path).st_mode)  # not ours any more: left alone
        client = Peer()
        opened = await asyncio.wait_for(transport.open(path, OPTIONS, lambda: client), TIMEOUT)
        assert (await client.read(1)) == b"\xff"  # libzmq answers
        opened.close()
    finally:
        zsock.close()


@pytest.mark.asyncio
async def test_a_stale_socket_file_is_taken_over(short_dir: Path) -> None:
    path = f"{short_dir}/stale.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()
    transport = IpcTransport()
    listening = await _listen(transport, path)
    _stop(transport, listening)
    assert not os.path.exists(path)


@pytest.mark.asyncio
async def test_unlisten_removes_our_file_libzmq_4_3_5_does_not(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path
) -> None:
    path = f"{short_dir}/u.sock"
    zsock = zctx.socket(zmq.PAIR)
    zsock.setsockopt(zmq.LINGER, 0)
    zsock.bind(f"ipc://{path}")
    zsock.unbind(f"ipc://{path}")
    zsock.close()
    assert os.path.exists(path)  # libzmq 4.3.5 leaves the file behind
    os.unlink(path)
    transport = IpcTransport()
    listening = await _listen(transport, path)
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    _stop(transport, listening)
    assert not os.path.exists(path)
    transport.unlisten(listening)  # a second unlisten is harmless


@pytest.mark.asyncio
async def test_unlisten_after_chdir_removes_the_right_file(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (short_dir / "a").mkdir()
    (short_dir / "b").mkdir()
    monkeypatch.chdir(short_dir / "a")
    transport = IpcTransport()
    listening = await _listen(transport, "rel.sock")
    assert listening.endpoint == "ipc://rel.sock"
    monkeypatch.chdir(short_dir / "b")
    (short_dir / "b" / "rel.sock").write_text("someone else's")
    _stop(transport, listening)
    assert not (short_dir / "a" / "rel.sock").exists()
    assert (short_dir / "b" / "rel.sock").read_text() == "someone else's"


@pytest.mark.asyncio
async def test_a_regular_file_is_never_deleted(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path
) -> None:
    # Deliberate difference: libzmq unlinks whatever is at the path, data included.
    theirs = short_dir / "libzmq.txt"
    theirs.write_text("data")
    assert libzmq_result(zctx, "bind", f"ipc://{theirs}") is None
    assert stat.S_ISSOCK(os.lstat(theirs).st_mode)  # libzmq replaced the file
    ours = short_dir / "ours.txt"
    ours.write_text("data")
    with pytest.raises(ZMQError) as caught:
        await _listen(IpcTransport(), str(ours))
    assert caught.value.errno == errno.EADDRINUSE
    assert ours.read_text() == "data"


@needs_linux
@pytest.mark.asyncio
async def test_abstract_names_are_exclusive(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    name = _abstract_name()
    transport = IpcTransport()
    listening = await _listen(transport, name)
    try:
        assert libzmq_result(zctx, "bind", f"ipc://{name}") == errno.EADDRINUSE
        with pytest.raises(ZMQError) as caught:
            await _listen(transport, name)
        assert caught.value.errno == errno.EADDRINUSE
    finally:
        _stop(transport, listening)
    zsock = zctx.socket(zmq.PAIR)
    zsock.setsockopt(zmq.LINGER, 0)
    try:
        zsock.bind(f"ipc://{name}")
        with pytest.raises(ZMQError) as caught:
            await _listen(transport, name)
        assert caught.value.errno == errno.EADDRINUSE
    finally:
        zsock.close()


@pytest.mark.asyncio
async def test_abstract_bind_never_touches_a_file_named_like_it(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libzmq unlink()s "@name" relative to the cwd before binding the abstract name.
    if not LINUX:
        pytest.skip("abstract sockets are Linux")
    monkeypatch.chdir(short_dir)
    name = _abstract_name()
    Path(name).write_text("keep me")
    transport = IpcTransport()
    listening = await _listen(transport, name)
    _stop(transport, listening)
    assert Path(name).read_text() == "keep me"


@pytest.mark.asyncio
async def test_listen_passes_the_backlog(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    seen: dict[str, Any] = {}
    real = loop.create_unix_server

    async def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return await real(*args, **kwargs)

    monkeypatch.setattr(loop, "create_unix_server", spy)
    transport = IpcTransport()
    listening = await transport.listen(
        f"{short_dir}/b.sock", TransportOptions(backlog=3), asyncio.Protocol
    )
    _stop(transport, listening)
    assert seen["backlog"] == 3


# -- the peer address -------------------------------------------------------------------------


def _libzmq_peer_address(context: zmq.Context[zmq.Socket[bytes]], endpoint: str) -> str:
    server = context.socket(zmq.PAIR)
    client = context.socket(zmq.PAIR)
    for sock in (server, client):
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, int(TIMEOUT * 1000))
    try:
        server.bind(endpoint)
        client.connect(endpoint)
        client.send(b"x")
        frame = server.recv(copy=False)
        return str(frame.get("Peer-Address"))
    finally:
        server.close()
        client.close()


@needs_linux
@pytest.mark.asyncio
async def test_peer_address_is_libzmqs(
    zctx: zmq.Context[zmq.Socket[bytes]], short_dir: Path
) -> None:
    # libzmq: getnameinfo() of the AF_UNIX peer ("localhost" on glibc) + SO_PEERCRED.
    expected = f"localhost:{os.getuid()}:{os.getgid()}:{os.getpid()}"
    assert _libzmq_peer_address(zctx, f"ipc://{short_dir}/p.sock") == expected
    transport = IpcTransport()
    server = Server()
    listening = await _listen(transport, f"{short_dir}/q.sock", server.factory)
    client = Peer()
    opened = await asyncio.wait_for(
        transport.open(f"{short_dir}/q.sock", OPTIONS, lambda: client), TIMEOUT
    )
    try:
        accepted = await server.next()
        assert accepted.transport is not None
        assert transport.peer_address(accepted.transport) == expected.encode()
        assert transport.peer_address(opened) == expected.encode()
    finally:
        opened.close()
        _stop(transport, listening)


def test_registry_gives_this_transport() -> None:
    assert isinstance(get_transport("ipc"), IpcTransport)
    assert ipc_module.IpcTransport.scheme == "ipc"
    assert socket.AF_UNIX  # the platform has Unix sockets at all
