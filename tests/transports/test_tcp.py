"""tcp:// endpoints, listeners and connections, checked against libzmq 4.3.5 (pyzmq).

Every endpoint string below is given to libzmq and to our transport, for bind and connect,
with IPV6 off and on, and the errnos must agree. Where they do not, by design, the case is in
DIVERGENCES with libzmq's behaviour spelled out, and the test checks the difference is still
real. Traffic stays on 127.0.0.1/::1, and no DNS query leaves the machine: our transport's
look-ups go through a guard that only passes numeric addresses and /etc/hosts' localhost, and
the strings libzmq sees are either numeric or names glibc refuses before asking DNS (leading
'-', spaces, '$', '..', checked with strace on glibc 2.36). libzmq's connect() only checks
syntax; its connection attempts then go to loopback addresses only.
"""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq

import transports.tcp as tcp_module
from transports import get_transport, parse_endpoint
from transports.base import Listening, TransportOptions
from transports.tcp import TcpTransport
from zmtp.errors import ZMQError

TIMEOUT = 5.0
OFF = TransportOptions()
ON = TransportOptions(ipv6=True)


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


HAS_IPV6 = _has_ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback")


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Route our transport's look-ups through a guard; return the names it refused."""
    real = socket.getaddrinfo
    refused: list[str] = []

    def guarded(
        host: str, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        if flags & socket.AI_NUMERICHOST or host == "localhost":
            return real(host, port, family, type, proto, flags)
        refused.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (no DNS in tests)")

    monkeypatch.setattr(tcp_module, "_getaddrinfo", guarded)
    return refused


@pytest.fixture(scope="module")
def zctx() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield context
    context.term()


def _wait_until_released(endpoint: str) -> None:
    """Wait (bounded) until libzmq's listener on ``endpoint`` (a LAST_ENDPOINT) is gone.

    libzmq closes a listener in its I/O thread after zmq_close() returns, so a fixed port it
    bound can still be taken for a moment when our transport binds the same string.
    """
    host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    infos = socket.getaddrinfo(
        host.strip("[]"), int(port), family, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
    )
    deadline = time.monotonic() + TIMEOUT
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(infos[0][4])
            except OSError:
                if time.monotonic() > deadline:
                    raise
            else:
                return
        time.sleep(0.01)


def libzmq_result(
    context: zmq.Context[zmq.Socket[bytes]], op: str, endpoint: str, ipv6: bool
) -> int | None:
    """Return libzmq's errno for ``op`` (bind/connect) on ``endpoint``, None if accepted."""
    sock = context.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.IPV6, int(ipv6))
    bound = None
    try:
        getattr(sock, op)(endpoint)
        if op == "bind":
            bound = sock.getsockopt_string(zmq.LAST_ENDPOINT)
    except zmq.ZMQError as exc:
        return exc.errno
    finally:
        sock.close()
    if bound is not None:
        _wait_until_released(bound)
    return None


async def _listen_once(transport: Any, address: str, options: TransportOptions) -> str:
    listening: Listening = await transport.listen(address, options, asyncio.Protocol)
    listening.server.close()
    transport.unlisten(listening)
    return listening.endpoint


def our_result(op: str, endpoint: str, ipv6: bool) -> int | None:
    """Return our errno for ``op`` on ``endpoint`` (bind = check_bind + listen), None if OK."""
    options = TransportOptions(ipv6=ipv6)
    try:
        scheme, address = parse_endpoint(endpoint)
        transport = get_transport(scheme)
        if op == "bind":
            transport.check_bind(address, options)
            asyncio.run(_listen_once(transport, address, options))
        else:
            transport.check_connect(address, options)
    except ZMQError as exc:
        return exc.errno
    return None


def _name(number: int | None) -> str:
    return "OK" if number is None else errno.errorcode.get(number, str(number))


# Every endpoint is tried for bind and connect, with IPV6 off and on. A fixed port (5555)
# is bound for real by both, one after the other (libzmq_result waits for libzmq's release).
ENDPOINTS = [
    # the port
    "tcp://127.0.0.1",  # missing port
    "tcp://127.0.0.1:",  # empty port
    "tcp://127.0.0.1:abc",
    "tcp://127.0.0.1:65536",
    "tcp://127.0.0.1:00",
    "tcp://127.0.0.1:5x",  # libzmq's atoi reads port 5
    "tcp://127.0.0.1:-1",  # libzmq's atoi + uint16 cast reads 65535
    "tcp://127.0.0.1:5555/path",
    "tcp://127.0.0.1: 5555",
    "tcp://127.0.0.1:*",  # '*' is bind only
    "tcp://127.0.0.1:0",  # 0 is "any" for bind; never connectable
    "tcp://127.0.0.1:05555",  # leading zero: port 5555 for connect
    "tcp://*:*",
    "tcp://*:0",
    "tcp://*",
    "tcp://:",
    # the host
    "tcp://:5555",  # empty host
    "tcp://:*",
    "tcp://bad host:5555",
    "tcp://bad$host:5555",
    "tcp://-host:5555",
    "tcp://a..b:5555",
    "tcp://é:5555",
    "tcp://-nosuchif:*",  # not an interface, and not a name glibc would ask DNS about
    "tcp://lo:*",
    "tcp://localhost:*",
    "tcp://localhost:5555",
    "tcp://127.1:*",
    "tcp://203.0.113.1:*",  # TEST-NET-3: not a local address
    "tcp://0.0.0.0:*",
    # IPv6
    "tcp://::1:*",  # without brackets: libzmq splits at the last ':'
    "tcp://::1:5555",
    "tcp://[::1]:*",
    "tcp://[::1]:5555",
    "tcp://[::]:*",
    "tcp://[::1",
    "tcp://[::1]",
    "tcp://[::ffff:127.0.0.1]:*",
    "tcp://[127.0.0.1]:*",
    "tcp://[fe80::1%lo]:*",  # link-local address that lo does not have
    "tcp://[fe80::1%1]:*",
    "tcp://[::1%]:*",
    "tcp://[::1%lo]:*",
    "tcp://127.0.0.1%lo:*",
    "tcp://127.0.0.1%nosuch:*",
    "tcp://127.0.0.1%0:*",
    "tcp://[2001:db8::1]:*",  # documentation prefix: not a local address
    # a source address
    "tcp://127.0.0.1:0;127.0.0.1:*",
    "tcp://127.0.0.1:0;127.0.0.1:5556",
    "tcp://127.0.0.1:*;127.0.0.1:5556",
    "tcp://lo:0;127.0.0.1:5556",
    "tcp://;127.0.0.1:5556",
    "tcp://127.0.0.1;127.0.0.1:*",
    "tcp://127.0.0.1;127.0.0.1:5556",
    "tcp://-nosuchif:0;127.0.0.1:*",
    "tcp://localhost:1;127.0.0.1:*",  # a source is never looked up by name
    "tcp://127.0.0.1:99999;127.0.0.1:*",
]

_ATOI = "libzmq reads the port with atoi() and a uint16 cast, so it binds a port nobody asked for"
_NEVER = "libzmq accepts this at connect() and then fails every reconnect attempt, silently"
_V6_OFF = "an IPv6 literal cannot be reached with IPV6 off; " + _NEVER

# (endpoint, op, ipv6) -> (our errno, what libzmq does instead)
DIVERGENCES: dict[tuple[str, str, bool], tuple[int, str]] = {}


def _diverge(endpoint: str, op: str, ipv6s: tuple[bool, ...], ours: int, why: str) -> None:
    for ipv6 in ipv6s:
        DIVERGENCES[(endpoint, op, ipv6)] = (ours, why)


BOTH = (False, True)
_diverge("tcp://127.0.0.1:5x", "bind", BOTH, errno.EINVAL, _ATOI + " (5)")
_diverge("tcp://127.0.0.1:-1", "bind", BOTH, errno.EINVAL, _ATOI + " (65535)")
_diverge("tcp://127.0.0.1:5555/path", "bind", BOTH, errno.EINVAL, _ATOI + " (5555)")
_diverge("tcp://127.0.0.1: 5555", "bind", BOTH, errno.EINVAL, _ATOI + " (5555)")
_diverge("tcp://127.0.0.1:5x", "connect", BOTH, errno.EINVAL, _NEVER + " (port 5)")
_diverge("tcp://127.0.0.1:65536", "connect", BOTH, errno.EINVAL, _NEVER)
_diverge("tcp://127.0.0.1:00", "connect", BOTH, errno.EINVAL, _NEVER)
_diverge("tcp://127.0.0.1:0", "connect", BOTH, errno.EINVAL, _NEVER + " (port 0)")
_diverge("tcp://:5555", "connect", BOTH, errno.EINVAL, _NEVER + " (empty host)")
_diverge("tcp://[::1", "connect", BOTH, errno.EINVAL, _NEVER + " (host '[:')")
_diverge("tcp://[::1]", "connect", BOTH, errno.EINVAL, _NEVER + " (host '[:', port '1]')")
_diverge(
    "tcp://[::1]", "bind", BOTH, errno.EINVAL, "libzmq reads port '1]' as 1, then ENODEV for '[:'"
)
_diverge("tcp://::1:5555", "connect", (False,), errno.EINVAL, _V6_OFF)
_diverge("tcp://[::1]:5555", "connect", (False,), errno.EINVAL, _V6_OFF)
_diverge("tcp://127.0.0.1;127.0.0.1:5556", "connect", BOTH, errno.EINVAL, _NEVER + " (no port)")
_diverge(
    "tcp://127.0.0.1:99999;127.0.0.1:*",
    "bind",
    BOTH,
    errno.EINVAL,
    "libzmq reads the source port with atoi() (34463), then ignores the source on bind",
)


CASES = [
    pytest.param(endpoint, op, ipv6, id=f"{op}-{'ipv6' if ipv6 else 'ipv4'}-{endpoint}")
    for endpoint in ENDPOINTS
    for op in ("bind", "connect")
    for ipv6 in (False, True)
]


@pytest.mark.parametrize(("endpoint", "op", "ipv6"), CASES)
def test_errno_matches_libzmq(
    zctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, op: str, ipv6: bool
) -> None:
    if ipv6 and not HAS_IPV6 and "[" in endpoint:
        pytest.skip("no IPv6 loopback")
    theirs = libzmq_result(zctx, op, endpoint, ipv6)
    ours = our_result(op, endpoint, ipv6)
    divergence = DIVERGENCES.get((endpoint, op, ipv6))
    if divergence is None:
        assert _name(ours) == _name(theirs)
    else:
        expected, why = divergence
        assert _name(ours) == _name(expected)
        assert _name(theirs) != _name(ours), f"libzmq no longer differs ({why}): drop the entry"


def test_divergences_are_all_exercised() -> None:
    assert {endpoint for endpoint, _, _ in DIVERGENCES} <= set(ENDPOINTS)


# -- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "op", "words"),
    [
        ("127.0.0.1", "bind", "no ':<port>'"),
        ("127.0.0.1:abc", "bind", "port 'abc'"),
        ("127.0.0.1:*", "connect", "only valid for bind"),
        ("127.0.0.1:0", "connect", "port 0"),
        (":5555", "connect", "host is empty"),
        ("bad host:5555", "connect", "character ' '"),
        ("bad host:5555", "bind", "'bad host'"),
        ("[::1]:*", "bind", "IPV6"),
        ("127.0.0.1%nosuch:*", "bind", "zone id 'nosuch'"),
    ],
)
def test_messages_name_the_endpoint_and_the_problem(address: str, op: str, words: str) -> None:
    transport = TcpTransport()
    with pytest.raises(ZMQError) as caught:
        if op == "bind":
            transport.check_bind(address, OFF)
        else:
            transport.check_connect(address, OFF)
    assert f"tcp://{address}" in str(caught.value)
    assert words in str(caught.value)


def test_unknown_interface_name_is_enodev_after_a_name_lookup(no_dns: list[str]) -> None:
    # libzmq 4.3.5 tries the name as an interface, then as a host name (DNS allowed for
    # bind), and answers ENODEV when both fail. So do we, without blocking in check_bind.
    transport = TcpTransport()
    transport.check_bind("nosuchif0:*", OFF)  # a name: only listen may look it up
    assert no_dns == []
    with pytest.raises(ZMQError) as caught:
        asyncio.run(_listen_once(transport, "nosuchif0:*", OFF))
    assert caught.value.errno == errno.ENODEV
    assert "nosuchif0" in str(caught.value)
    assert no_dns == ["nosuchif0"]


def test_connect_check_never_resolves(no_dns: list[str]) -> None:
    TcpTransport().check_connect("some-host.example:5555", OFF)
    TcpTransport().check_connect("nosuchif0:0;127.0.0.1:5555", OFF)
    assert no_dns == []


# -- LAST_ENDPOINT --------------------------------------------------------------------------

_PORT = re.compile(r":\d+$")


def _libzmq_last_endpoint(
    context: zmq.Context[zmq.Socket[bytes]], endpoint: str, ipv6: bool
) -> str:
    sock = context.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.IPV6, int(ipv6))
    try:
        sock.bind(endpoint)
        return sock.getsockopt_string(zmq.LAST_ENDPOINT)
    finally:
        sock.close()


def _our_last_endpoint(endpoint: str, ipv6: bool) -> str:
    _, address = parse_endpoint(endpoint)
    return asyncio.run(_listen_once(TcpTransport(), address, TransportOptions(ipv6=ipv6)))


def _interfaces() -> list[tuple[str, int, Any]]:
    return tcp_module._interface_addresses()


def _link_local() -> tuple[str, str] | None:
    for name, family, sockaddr in _interfaces():
        if family == socket.AF_INET6 and sockaddr[0].startswith("fe80:"):
            return name, sockaddr[0]
    return None


def _other_interface() -> str | None:
    for name, _, _ in _interfaces():
        if name != "lo":
            return name
    return None


LAST_ENDPOINT_CASES = [
    ("tcp://127.0.0.1:*", False, "tcp://127.0.0.1:N"),
    ("tcp://127.0.0.1:0", False, "tcp://127.0.0.1:N"),
    ("tcp://*:*", False, "tcp://0.0.0.0:N"),
    ("tcp://*:*", True, "tcp://[::]:N"),
    ("tcp://127.0.0.1:*", True, "tcp://[::ffff:127.0.0.1]:N"),
    ("tcp://0.0.0.0:*", True, "tcp://[::ffff:0.0.0.0]:N"),
    ("tcp://[::1]:*", True, "tcp://[::1]:N"),
    ("tcp://::1:*", True, "tcp://[::1]:N"),
    ("tcp://localhost:*", False, "tcp://127.0.0.1:N"),
    ("tcp://lo:*", False, "tcp://127.0.0.1:N"),
    ("tcp://lo:*", True, "tcp://[::1]:N"),
    ("tcp://127.1:*", False, "tcp://127.0.0.1:N"),
    ("tcp://[::ffff:127.0.0.1]:*", False, "tcp://127.0.0.1:N"),
]


@pytest.mark.parametrize(("endpoint", "ipv6", "shape"), LAST_ENDPOINT_CASES)
def test_last_endpoint_is_libzmqs(
    zctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, ipv6: bool, shape: str
) -> None:
    if ipv6 and not HAS_IPV6:
        pytest.skip("no IPv6 loopback")
    theirs = _libzmq_last_endpoint(zctx, endpoint, ipv6)
    ours = _our_last_endpoint(endpoint, ipv6)
    assert _PORT.sub(":N", theirs) == shape
    assert _PORT.sub(":N", ours) == shape
    assert int(ours.rpartition(":")[2]) > 0


@pytest.mark.parametrize("ipv6", [False, True])
def test_interface_name_picks_libzmqs_address(
    zctx: zmq.Context[zmq.Socket[bytes]], ipv6: bool
) -> None:
    # libzmq takes the first getifaddrs() entry of the family: with several IPv6 addresses
    # on one interface, that is not /proc/net/if_inet6's first line.
    name = _other_interface()
    if name is None:
        pytest.skip("no interface besides lo")
    endpoint = f"tcp://{name}:*"
    theirs = libzmq_result(zctx, "bind", endpoint, ipv6)
    if theirs is not None:
        pytest.skip(f"libzmq cannot bind {endpoint}: {_name(theirs)}")
    ours = _our_last_endpoint(endpoint, ipv6)
    assert _PORT.sub("", ours) == _PORT.sub("", _libzmq_last_endpoint(zctx, endpoint, ipv6))


def test_link_local_with_zone(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    found = _link_local()
    if found is None:
        pytest.skip("no link-local IPv6 address")
    name, address = found
    index = socket.if_nametoindex(name)
    for zone in (name, str(index)):
        endpoint = f"tcp://[{address}%{zone}]:*"
        theirs = _libzmq_last_endpoint(zctx, endpoint, True)
        ours = _our_last_endpoint(endpoint, True)
        assert _PORT.sub("", ours) == _PORT.sub("", theirs) == f"tcp://[{address}%{name}]"
    # Without a zone the kernel refuses a link-local bind; libzmq passes its EINVAL through.
    no_zone = f"tcp://[{address}]:*"
    assert our_result("bind", no_zone, True) == libzmq_result(zctx, "bind", no_zone, True)


# -- listen and open ------------------------------------------------------------------------


class Peer(asyncio.Protocol):
    """Collects what arrives; events for connection_made and data."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.data = bytearray()
        self.made = asyncio.Event()
        self.arrived = asyncio.Event()
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.made.set()

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.arrived.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    async def read(self, size: int) -> bytes:
        while len(self.data) < size:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), TIMEOUT)
        return bytes(self.data[:size])


class Server:
    """Our listener, with the protocols it accepted."""

    def __init__(self) -> None:
        self.accepted: list[Peer] = []
        self.new = asyncio.Event()

    def factory(self) -> Peer:
        peer = Peer()
        self.accepted.append(peer)
        self.new.set()
        return peer

    async def first(self) -> Peer:
        await asyncio.wait_for(self.new.wait(), TIMEOUT)
        peer = self.accepted[0]
        await asyncio.wait_for(peer.made.wait(), TIMEOUT)
        return peer


def _host_port(endpoint: str) -> str:
    return endpoint.removeprefix("tcp://")


async def _pair(
    listen_at: str, options: TransportOptions = OFF, connect_options: TransportOptions | None = None
) -> tuple[Listening, Peer, Peer]:
    transport = TcpTransport()
    server = Server()
    listening = await transport.listen(listen_at, options, server.factory)
    client = Peer()
    await asyncio.wait_for(
        transport.open(_host_port(listening.endpoint), connect_options or options, lambda: client),
        TIMEOUT,
    )
    accepted = await server.first()
    return listening, accepted, client


def _close(listening: Listening, *peers: Peer) -> None:
    for peer in peers:
        if peer.transport is not None:
            peer.transport.close()
    listening.server.close()


@pytest.mark.asyncio
async def test_round_trip_on_loopback() -> None:
    listening, accepted, client = await _pair("127.0.0.1:*")
    try:
        assert client.transport is not None and accepted.transport is not None
        client.transport.write(b"ping")
        assert await accepted.read(4) == b"ping"
        accepted.transport.write(b"pong")
        assert await client.read(4) == b"pong"
        transport = TcpTransport()
        assert transport.peer_address(accepted.transport) == b"127.0.0.1"
        assert transport.peer_address(client.transport) == b"127.0.0.1"
    finally:
        _close(listening, accepted, client)


@needs_ipv6
@pytest.mark.asyncio
async def test_round_trip_on_ipv6_loopback() -> None:
    listening, accepted, client = await _pair("[::1]:*", ON)
    try:
        assert listening.endpoint.startswith("tcp://[::1]:")
        assert accepted.transport is not None
        assert TcpTransport().peer_address(accepted.transport) == b"::1"
    finally:
        _close(listening, accepted, client)


@needs_ipv6
@pytest.mark.asyncio
async def test_wildcard_with_ipv6_is_dual_stack() -> None:
    # libzmq clears IPV6_V6ONLY, so tcp://*:* with IPV6 also takes IPv4 peers; their ZAP
    # address is then ::ffff:127.0.0.1 (what libzmq reports, checked with pyzmq).
    transport = TcpTransport()
    server = Server()
    listening = await transport.listen("*:*", ON, server.factory)
    try:
        sock = listening.server.sockets[0]
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 0
        port = listening.endpoint.rpartition(":")[2]
        client = Peer()
        await asyncio.wait_for(transport.open(f"127.0.0.1:{port}", OFF, lambda: client), TIMEOUT)
        accepted = await server.first()
        assert accepted.transport is not None
        assert transport.peer_address(accepted.transport) == b"::ffff:127.0.0.1"
        _close(listening, accepted, client)
    finally:
        listening.server.close()


@pytest.mark.asyncio
async def test_socket_options_on_both_ends() -> None:
    options = TransportOptions(
        tcp_keepalive=1, tcp_keepalive_idle=30, tcp_keepalive_cnt=4, tcp_keepalive_intvl=5
    )
    listening, accepted, client = await _pair("127.0.0.1:*", options)
    try:
        listener = listening.server.sockets[0]
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0
        for peer in (accepted, client):
            assert peer.transport is not None
            sock = peer.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 4
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 5
    finally:
        _close(listening, accepted, client)


@pytest.mark.asyncio
async def test_keepalive_left_alone_at_minus_one() -> None:
    listening, accepted, client = await _pair("127.0.0.1:*", OFF)
    try:
        for peer in (accepted, client):
            assert peer.transport is not None
            sock = peer.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        _close(listening, accepted, client)


@pytest.mark.asyncio
async def test_listen_passes_the_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    seen: dict[str, Any] = {}
    real = loop.create_server

    async def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return await real(*args, **kwargs)

    monkeypatch.setattr(loop, "create_server", spy)
    listening = await TcpTransport().listen(
        "127.0.0.1:*", TransportOptions(backlog=7), asyncio.Protocol
    )
    listening.server.close()
    assert seen["backlog"] == 7


@pytest.mark.asyncio
async def test_libzmq_connects_to_our_listener(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    server = Server()
    listening = await TcpTransport().listen("127.0.0.1:*", OFF, server.factory)
    sock = zctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(listening.endpoint)
        accepted = await server.first()
        greeting = await accepted.read(10)
        assert greeting[0] == 0xFF and greeting[9] == 0x7F  # ZMTP signature
    finally:
        sock.close()
        listening.server.close()


@pytest.mark.asyncio
async def test_we_connect_to_libzmq(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    sock = zctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.bind("tcp://127.0.0.1:*")
        endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        client = Peer()
        transport = await asyncio.wait_for(
            TcpTransport().open(_host_port(endpoint), OFF, lambda: client), TIMEOUT
        )
        greeting = await client.read(10)
        assert greeting[0] == 0xFF and greeting[9] == 0x7F
        transport.close()
    finally:
        sock.close()


@pytest.mark.asyncio
async def test_address_in_use(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    transport = TcpTransport()
    listening = await transport.listen("127.0.0.1:*", OFF, asyncio.Protocol)
    try:
        with pytest.raises(ZMQError) as caught:
            await transport.listen(_host_port(listening.endpoint), OFF, asyncio.Protocol)
        assert caught.value.errno == errno.EADDRINUSE
        assert listening.endpoint in str(caught.value)
        assert libzmq_result(zctx, "bind", listening.endpoint, False) == errno.EADDRINUSE
    finally:
        listening.server.close()
    # And the other way round: libzmq holds the port.
    sock = zctx.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.bind("tcp://127.0.0.1:*")
        held = _host_port(sock.getsockopt_string(zmq.LAST_ENDPOINT))
        with pytest.raises(ZMQError) as caught:
            await transport.listen(held, OFF, asyncio.Protocol)
        assert caught.value.errno == errno.EADDRINUSE
    finally:
        sock.close()


@pytest.mark.asyncio
async def test_connection_refused_is_an_oserror() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError) as caught:
        await asyncio.wait_for(
            TcpTransport().open(f"127.0.0.1:{port}", OFF, asyncio.Protocol), TIMEOUT
        )
    assert caught.value.errno == errno.ECONNREFUSED


@pytest.mark.asyncio
async def test_unresolvable_host_is_an_oserror_for_the_engine_to_retry(
    no_dns: list[str],
) -> None:
    with pytest.raises(OSError) as caught:
        await asyncio.wait_for(
            TcpTransport().open("nosuchhost:5555", OFF, asyncio.Protocol), TIMEOUT
        )
    assert not isinstance(caught.value, ZMQError)
    assert caught.value.errno == errno.EINVAL
    assert "tcp://nosuchhost:5555" in str(caught.value)
    assert no_dns == ["nosuchhost"]


@pytest.mark.asyncio
async def test_open_refuses_what_check_connect_refuses() -> None:
    with pytest.raises(OSError) as caught:
        await TcpTransport().open("[::1]:5555", OFF, asyncio.Protocol)
    assert caught.value.errno == errno.EINVAL


@pytest.mark.asyncio
async def test_host_is_resolved_at_every_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups: list[str] = []
    guarded = tcp_module._getaddrinfo

    def counting(host: str, *args: Any) -> Any:
        if not args[-1] & socket.AI_NUMERICHOST:
            lookups.append(host)
        return guarded(host, *args)

    monkeypatch.setattr(tcp_module, "_getaddrinfo", counting)
    transport = TcpTransport()
    server = Server()
    listening = await transport.listen("127.0.0.1:*", OFF, server.factory)
    port = listening.endpoint.rpartition(":")[2]
    try:
        for _ in range(2):
            opened = await asyncio.wait_for(
                transport.open(f"localhost:{port}", OFF, asyncio.Protocol), TIMEOUT
            )
            opened.close()
        assert lookups == ["localhost", "localhost"]
    finally:
        listening.server.close()


@pytest.mark.asyncio
async def test_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    async def never(sock: socket.socket, address: Any) -> None:
        await asyncio.sleep(3600)

    monkeypatch.setattr(loop, "sock_connect", never)
    options = TransportOptions(connect_timeout_ms=50)
    with pytest.raises(TimeoutError) as caught:
        await asyncio.wait_for(TcpTransport().open("127.0.0.1:5555", options, Peer), TIMEOUT)
    assert caught.value.errno == errno.ETIMEDOUT
    assert "CONNECT_TIMEOUT" in str(caught.value)


@pytest.mark.asyncio
@pytest.mark.parametrize("source", ["127.0.0.1:0", "127.0.0.1:*", "lo:0"])
async def test_source_address_is_bound_before_connecting(source: str) -> None:
    transport = TcpTransport()
    server = Server()
    listening = await transport.listen("127.0.0.1:*", OFF, server.factory)
    try:
        target = _host_port(listening.endpoint)
        transport.check_connect(f"{source};{target}", OFF)
        client = Peer()
        await asyncio.wait_for(transport.open(f"{source};{target}", OFF, lambda: client), TIMEOUT)
        accepted = await server.first()
        assert client.transport is not None
        assert client.transport.get_extra_info("sockname")[0] == "127.0.0.1"
        _close(listening, accepted, client)
    finally:
        listening.server.close()


@pytest.mark.asyncio
async def test_unknown_source_interface_fails_the_attempt_not_the_connect() -> None:
    # libzmq resolves the source at each attempt (ENODEV), never at connect().
    transport = TcpTransport()
    transport.check_connect("nosuchif0:0;127.0.0.1:5555", OFF)
    with pytest.raises(OSError) as caught:
        await transport.open("nosuchif0:0;127.0.0.1:5555", OFF, asyncio.Protocol)
    assert caught.value.errno == errno.ENODEV


def test_registry_gives_this_transport() -> None:
    assert isinstance(get_transport("tcp"), TcpTransport)
    assert TcpTransport.scheme == "tcp"
