"""tcp:// — ZMTP over TCP, with libzmq 4.3.5's endpoint grammar and socket settings.

Endpoint grammar (libzmq ``tcp_address_t::resolve`` and ``ip_resolver_t::resolve``):

* bind ``tcp://<iface>:<port>``: ``<iface>`` is ``*`` (``0.0.0.0``, or ``::`` dual-stack with
  IPV6), an OS interface name (``lo``, ``eth0``), a numeric address (``127.0.0.1``, ``[::1]``,
  ``[fe80::1%eth0]``) or a host name; ``<port>`` is a number, or ``*``/``0`` for an ephemeral
  port that LAST_ENDPOINT then reports.
* connect ``tcp://[<source>;]<host>:<port>``: the host is resolved (DNS allowed) at every
  connection attempt, never at ``connect()``; the optional source is bound before connecting
  and may be an interface name or a numeric address (never DNS), with port ``*``/``0`` for any.

Where libzmq accepts a string that can never work (its port parser is ``atoi``, so ``5x`` binds
port 5 and ``-1`` binds 65535; its connect check is a character filter, so ``tcp://:5555`` and
``tcp://127.0.0.1:0`` are accepted and then fail on every reconnect, silently), this module
refuses it up front with EINVAL instead. Everything else, including each errno, is libzmq's:
the tests compare both on the same strings and list these deliberate differences.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import re
import socket
import string
import struct
import sys
from dataclasses import dataclass
from typing import Final

from transports.base import (
    Listening,
    PeerSocket,
    ProtocolFactory,
    StreamTransport,
    TransportOptions,
)
from zmtp.constants import Errno
from zmtp.errors import ZMQError, zmq_error

__all__ = ["TcpTransport"]

# The one name lookup function this module uses, so that tests can prove no DNS query leaves
# the machine (they replace it). Numeric lookups pass AI_NUMERICHOST and never query DNS.
_getaddrinfo = socket.getaddrinfo

_AI_V4MAPPED: Final = getattr(socket, "AI_V4MAPPED", 0)
_AI_NUMERICHOST: Final = socket.AI_NUMERICHOST
_AI_PASSIVE: Final = socket.AI_PASSIVE

# ASCII only: str.isdigit()/isalnum() would also accept other scripts' digits and letters,
# which C's isdigit()/isalnum() in libzmq (C locale) do not.
_PORT_DIGITS: Final = re.compile(r"[0-9]+")
_HOST_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_LETTERS: Final = frozenset(string.ascii_letters)
_ALNUM: Final = _LETTERS | frozenset(string.digits)
# libzmq's connect-time "quick and dirty" filter (socket_base_t::connect_internal): the first
# character is alphanumeric, '[' or ':', the rest alphanumeric or one of ".-:%;[]_*".
_CONNECT_FIRST: Final = _ALNUM | frozenset("[:")
_CONNECT_REST: Final = _ALNUM | frozenset(".-:%;[]_*")

SockAddr = tuple[str, int] | tuple[str, int, int, int]


@dataclass(frozen=True, slots=True)
class HostPort:
    """One ``host:port`` part of an endpoint: brackets and the ``%zone`` already split off."""

    host: str
    zone: str
    port: int


@dataclass(frozen=True, slots=True)
class Resolved:
    """An address ready for ``bind()``/``connect()``."""

    family: int
    sockaddr: SockAddr


def _invalid(endpoint: str, problem: str) -> ZMQError:
    return zmq_error(Errno.EINVAL, f"{endpoint}: {problem}")


def _no_device(endpoint: str, problem: str) -> ZMQError:
    return zmq_error(Errno.ENODEV, f"{endpoint}: {problem}")


def _parse_port(text: str, endpoint: str, *, bindable: bool) -> int:
    """Read a port as libzmq does, but refuse what its ``atoi`` would silently mangle.

    libzmq: ``*`` means "any port" for bind and is EINVAL for connect; ``0`` means any port for
    bind; anything else goes through ``atoi`` and EINVAL if the result (cast to 16 bits) is 0,
    so ``00``, ``65536`` and ``abc`` are EINVAL but ``5x``, ``-1``, `` 80`` and ``99999`` bind
    ports 5, 65535, 80 and 34463. Here only 1-65535 in ASCII digits is a port.
    """
    if text == "*":
        if bindable:
            return 0
        raise _invalid(endpoint, "port '*' (any free port) is only valid for bind")
    if not _PORT_DIGITS.fullmatch(text):
        if not text:
            raise _invalid(endpoint, "the port is missing after ':'")
        raise _invalid(endpoint, f"port {text!r} is not a number from 1 to 65535")
    value = int(text)
    if value == 0:
        if bindable and text == "0":
            return 0
        if bindable:  # libzmq treats only the exact string "0" as "any port"
            raise _invalid(endpoint, f"port {text!r} is not a number from 1 to 65535")
        # libzmq accepts it at connect() and then tries port 0 on every reconnect, which never
        # succeeds; refusing here is the only useful answer.
        raise _invalid(endpoint, "port 0 cannot be connected to")
    if value > 65535:
        raise _invalid(endpoint, f"port {text!r} is not a number from 1 to 65535")
    return value


def _parse_host_port(text: str, endpoint: str, *, bindable: bool) -> HostPort:
    """Split ``host:port`` at the *last* colon, as libzmq does (so ``::1:5555`` works).

    Brackets are removed only when they enclose the whole host, and ``%zone`` is split off
    the host's last ``%`` (RFC 4007), both as libzmq does.
    """
    host, colon, port_text = text.rpartition(":")
    if not colon:
        raise _invalid(endpoint, "the address has no ':<port>'")
    port = _parse_port(port_text, endpoint, bindable=bindable)
    if len(host) >= 2 and host[0] == "[" and host[-1] == "]":
        host = host[1:-1]
    zone = ""
    if "%" in host:
        host, _, zone = host.rpartition("%")
        if not zone:
            raise _invalid(endpoint, "the IPv6 zone id after '%' is empty")
    return HostPort(host, zone, port)


def _zone_id(zone: str, endpoint: str) -> int:
    """Return the scope id for ``%zone`` as libzmq does: an interface name or a number > 0.

    libzmq: a zone starting with a letter goes through if_nametoindex, anything else through
    atoi; 0 (an unknown interface, or a non-number) is EINVAL.
    """
    if not zone:
        return 0
    if zone[0] in _LETTERS:
        try:
            index = socket.if_nametoindex(zone)
        except (OSError, ValueError):
            index = 0
        if index == 0:
            raise _invalid(endpoint, f"zone id {zone!r} is not a network interface")
        return index
    if not _PORT_DIGITS.fullmatch(zone) or int(zone) == 0:
        raise _invalid(endpoint, f"zone id {zone!r} is not an interface name or index")
    return int(zone)


def _family(ipv6: bool) -> int:
    # libzmq asks for AF_INET6 (with IPv4-mapped results) when IPV6 is on, else AF_INET only.
    return socket.AF_INET6 if ipv6 else socket.AF_INET


def with_port(resolved: tuple[int, SockAddr], port: int, scope: int | None) -> Resolved:
    family, sockaddr = resolved
    if family == socket.AF_INET6:
        keep_scope = sockaddr[3] if len(sockaddr) == 4 else 0
        return Resolved(family, (sockaddr[0], port, 0, keep_scope if scope is None else scope))
    return Resolved(family, (sockaddr[0], port))


def _numeric(host: str, family: int, flags: int) -> tuple[int, SockAddr] | None:
    """Resolve a numeric address without DNS; None if ``host`` is not numeric for ``family``."""
    try:
        infos = _getaddrinfo(host, None, family, socket.SOCK_STREAM, 0, flags | _AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    family_found, _, _, _, sockaddr = infos[0]
    return int(family_found), sockaddr  # type: ignore[return-value]


def _is_ip_literal(host: str) -> bool:
    """Return True if ``host`` is a numeric IPv4 or IPv6 address of any family."""
    return _numeric(host, socket.AF_UNSPEC, 0) is not None


# -- interface names (libzmq ip_resolver_t::resolve_nic_name, getifaddrs variant) ----------


class _IfAddrs(ctypes.Structure):
    """``struct ifaddrs`` from <ifaddrs.h> (Linux and the BSDs share the leading fields)."""


_IfAddrs._fields_ = [
    ("ifa_next", ctypes.POINTER(_IfAddrs)),
    ("ifa_name", ctypes.c_char_p),
    ("ifa_flags", ctypes.c_uint),
    ("ifa_addr", ctypes.c_void_p),
    ("ifa_netmask", ctypes.c_void_p),
    ("ifa_ifu", ctypes.c_void_p),
    ("ifa_data", ctypes.c_void_p),
]


def _interface_addresses() -> list[tuple[str, int, SockAddr]]:
    """Return ``(name, family, sockaddr)`` for every IPv4/IPv6 address, in getifaddrs order.

    libzmq on Linux takes the *first* getifaddrs entry with the interface's name and the
    wanted family. The kernel's netlink order differs from /proc/net/if_inet6 (on a host with
    ``fe80::…`` and ``fd00::2`` on eth0, libzmq binds ``fd00::2``), so the same C call is used
    here. Other platforms lay out ``struct sockaddr`` differently; there, interface names are
    not recognised and resolve like host names.
    """
    if not sys.platform.startswith("linux"):
        return []
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        getifaddrs = libc.getifaddrs
        freeifaddrs = libc.freeifaddrs
    except (OSError, AttributeError):
        return []
    getifaddrs.argtypes = [ctypes.POINTER(ctypes.POINTER(_IfAddrs))]
    getifaddrs.restype = ctypes.c_int
    freeifaddrs.argtypes = [ctypes.POINTER(_IfAddrs)]
    freeifaddrs.restype = None
    head = ctypes.POINTER(_IfAddrs)()
    if getifaddrs(ctypes.byref(head)) != 0:
        # libzmq maps EINVAL/EOPNOTSUPP (WSL) to ENODEV; any failure means "no interfaces".
        return []
    found: list[tuple[str, int, SockAddr]] = []
    try:
        node = head
        while node:
            entry = node.contents
            if entry.ifa_addr and entry.ifa_name is not None:
                name = entry.ifa_name.decode("utf-8", "surrogateescape")
                (family,) = struct.unpack("=H", ctypes.string_at(entry.ifa_addr, 2))
                if family == socket.AF_INET:
                    raw = ctypes.string_at(entry.ifa_addr, 16)
                    address = socket.inet_ntop(socket.AF_INET, raw[4:8])
                    found.append((name, family, (address, 0)))
                elif family == socket.AF_INET6:
                    raw = ctypes.string_at(entry.ifa_addr, 28)
                    address = socket.inet_ntop(socket.AF_INET6, raw[8:24])
                    (scope,) = struct.unpack("=I", raw[24:28])
                    found.append((name, family, (address, 0, 0, scope)))
            node = entry.ifa_next
    finally:
        freeifaddrs(head)
    return found


def _interface_address(name: str, family: int) -> tuple[int, SockAddr] | None:
    """Return the first address of ``family`` on the interface called ``name``, or None."""
    for if_name, if_family, sockaddr in _interface_addresses():
        if if_name == name and if_family == family:
            return if_family, sockaddr
    return None


# -- resolution ------------------------------------------------------------------------------


def resolve_local(part: HostPort, ipv6: bool, endpoint: str, *, allow_dns: bool) -> Resolved | None:
    """Resolve a bind address (or a connect's source) without touching the network.

    The order is libzmq's (ip_resolver_t::resolve with bindable=true): the zone id, then ``*``,
    then an interface name, then a numeric address. A name that is none of these needs DNS:
    None is returned when ``allow_dns`` (a bind address, which libzmq 4.3.5 resolves with DNS),
    ENODEV otherwise (a source address, which libzmq resolves with AI_NUMERICHOST).
    """
    scope = _zone_id(part.zone, endpoint) if part.zone else None
    family = _family(ipv6)
    if part.host == "*":
        any_address = "::" if ipv6 else "0.0.0.0"
        return with_port(
            (family, (any_address, 0, 0, 0) if ipv6 else (any_address, 0)), part.port, scope
        )
    interface = _interface_address(part.host, family)
    if interface is not None:
        # libzmq overwrites the scope with the zone id (0 without one), which makes a
        # link-local interface address unbindable; the interface's own scope is kept instead.
        return with_port(interface, part.port, scope)
    flags = _AI_PASSIVE | (_AI_V4MAPPED if ipv6 else 0)
    numeric = _numeric(part.host, family, flags)
    if numeric is not None:
        return with_port(numeric, part.port, scope)
    if _is_ip_literal(part.host):
        # libzmq: getaddrinfo fails for the family, and a bindable address maps that to ENODEV.
        raise _no_device(
            endpoint, f"{part.host!r} is an IPv6 address, which needs the IPV6 socket option"
        )
    if allow_dns and _HOST_NAME.fullmatch(part.host):
        return None
    if not part.host:
        raise _no_device(endpoint, "the interface is empty (use '*' for every interface)")
    raise _no_device(
        endpoint,
        f"{part.host!r} is not a network interface, an IP address"
        + (" or a host name" if allow_dns else " (a source address is never looked up in DNS)"),
    )


def _lookup(part: HostPort, ipv6: bool, flags: int, endpoint: str, errno: int) -> Resolved:
    """Look ``part.host`` up with DNS, blocking; use the first answer, as libzmq does."""
    family = _family(ipv6)
    try:
        infos = _getaddrinfo(
            part.host, None, family, socket.SOCK_STREAM, 0, flags | (_AI_V4MAPPED if ipv6 else 0)
        )
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        # libzmq: EAI_MEMORY is ENOMEM, any other failure ENODEV (bind) or EINVAL (connect).
        if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_MEMORY:
            errno = Errno.ENOMEM
        raise zmq_error(errno, f"{endpoint}: cannot resolve {part.host!r}: {exc}") from exc
    found_family, _, _, _, sockaddr = infos[0]
    scope = _zone_id(part.zone, endpoint) if part.zone else None
    return with_port((int(found_family), sockaddr), part.port, scope)  # type: ignore[arg-type]


async def _resolve_name(
    part: HostPort, ipv6: bool, flags: int, endpoint: str, errno: int
) -> Resolved:
    """Look ``part.host`` up with DNS off the event loop (in the loop's default executor)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, _lookup, part, ipv6, flags, endpoint, errno)


def resolve_bind_name(part: HostPort, ipv6: bool, endpoint: str) -> Resolved:
    """Look a bind host name up now, blocking, as libzmq's bind does (ENODEV if it fails).

    For drivers without an executor of their own (the Twisted one binds synchronously).
    """
    return _lookup(part, ipv6, _AI_PASSIVE, endpoint, Errno.ENODEV)


@dataclass(frozen=True, slots=True)
class ConnectTarget:
    source: HostPort | None
    peer: HostPort


def _split_source(address: str) -> tuple[str | None, str]:
    # libzmq splits at the *last* ';' (strrchr), for bind and connect alike.
    source, semicolon, rest = address.rpartition(";")
    return (source, rest) if semicolon else (None, address)


def parse_connect(address: str, ipv6: bool, endpoint: str) -> ConnectTarget:
    """Validate a connect address; everything that needs DNS or interfaces waits for ``open``."""
    if (
        not address
        or address[0] not in _CONNECT_FIRST
        or any(char not in _CONNECT_REST for char in address[1:])
    ):
        bad = next((c for c in address if c not in _CONNECT_REST), address[:1])
        raise _invalid(endpoint, f"character {bad!r} cannot appear in a tcp connect address")
    source_text, peer_text = _split_source(address)
    source = None
    if source_text is not None:
        source = _parse_host_port(source_text, endpoint, bindable=True)
        if not source.host:
            raise _invalid(endpoint, "the source address before ';' has no host")
    peer = _parse_host_port(peer_text, endpoint, bindable=False)
    if peer.zone and peer.zone[0] not in _LETTERS:
        _zone_id(peer.zone, endpoint)  # a numeric zone can be checked now; a name must wait
    host = peer.host
    if not host:
        raise _invalid(endpoint, "the host is empty")
    if "[" in host or "]" in host:
        raise _invalid(endpoint, f"host {host!r} has unbalanced '[' ']' around an IPv6 address")
    if _is_ip_literal(host):
        if _numeric(host, _family(ipv6), _AI_V4MAPPED if ipv6 else 0) is None:
            # libzmq accepts this at connect() and fails every attempt with EINVAL.
            raise _invalid(
                endpoint, f"{host!r} is an IPv6 address, which needs the IPV6 socket option"
            )
    elif not _HOST_NAME.fullmatch(host):
        raise _invalid(endpoint, f"host {host!r} is neither an IP address nor a host name")
    return ConnectTarget(source, peer)


# -- sockets ---------------------------------------------------------------------------------


def tune(sock: socket.socket, options: TransportOptions) -> None:
    """Apply libzmq's per-connection TCP settings (tune_tcp_socket, tune_tcp_keepalives).

    TCP_NODELAY always (ZMTP batches itself); the keepalive options only when TCP_KEEPALIVE is
    not -1, and each of CNT/IDLE/INTVL only when it is not -1, leaving the rest to the OS.
    """
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if options.tcp_keepalive < 0:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, options.tcp_keepalive)
    idle_option = getattr(socket, "TCP_KEEPIDLE", getattr(socket, "TCP_KEEPALIVE", None))
    for option, value in (
        (getattr(socket, "TCP_KEEPCNT", None), options.tcp_keepalive_cnt),
        (idle_option, options.tcp_keepalive_idle),
        (getattr(socket, "TCP_KEEPINTVL", None), options.tcp_keepalive_intvl),
    ):
        if option is not None and value >= 0:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


def _tuned_factory(factory: ProtocolFactory, options: TransportOptions) -> ProtocolFactory:
    """Wrap ``factory`` so that each accepted socket is tuned before the protocol sees it.

    asyncio's accept loop offers no hook between accept() and connection_made(), so the
    protocol's own connection_made is wrapped on the instance: the engine still gets its own
    protocol object (``transport.get_protocol()`` is unchanged). libzmq tunes in in_event()
    and drops the connection if tuning fails; here the protocol sees it made, then lost.
    """

    def make() -> asyncio.Protocol:
        protocol = factory()
        inner = protocol.connection_made

        def connection_made(transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            failed = False
            if sock is not None:
                try:
                    tune(sock, options)
                except OSError:
                    failed = True
            inner(transport)
            if failed:  # libzmq drops a socket it cannot tune (ACCEPT_FAILED)
                if isinstance(transport, asyncio.Transport):
                    transport.abort()
                else:
                    transport.close()

        # A protocol class with __slots__ (no instance __dict__) cannot be wrapped: its sockets
        # keep asyncio's own TCP_NODELAY and the OS's keepalive defaults.
        with contextlib.suppress(AttributeError):
            protocol.connection_made = connection_made  # type: ignore[method-assign]
        return protocol

    return make


def _open_socket(family: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if family == socket.AF_INET6:
        # libzmq enable_ipv4_mapping(): every AF_INET6 socket is dual-stack, so `*` with IPV6
        # also accepts IPv4 peers (as ::ffff:a.b.c.d). asyncio would set IPV6_V6ONLY=1.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return sock


def _endpoint_of(sock: socket.socket) -> str:
    """Format the bound address as libzmq's tcp_address_t::to_string (getnameinfo, numeric)."""
    sockaddr = sock.getsockname()
    host, _ = socket.getnameinfo(sockaddr, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
    if sock.family == socket.AF_INET6:
        return f"tcp://[{host}]:{sockaddr[1]}"
    return f"tcp://{host}:{sockaddr[1]}"


def _errno_of(exc: OSError) -> int:
    return exc.errno if exc.errno is not None else int(Errno.EINVAL)


class TcpTransport(StreamTransport):
    """The tcp:// scheme: endpoint checks, listeners and connections as libzmq makes them."""

    scheme = "tcp"

    def bind_target(self, address: str, options: TransportOptions) -> tuple[str, HostPort]:
        """Return the endpoint text and the local part of a bind address, checked as libzmq."""
        endpoint = f"tcp://{address}"
        source_text, local_text = _split_source(address)
        if source_text is not None:
            # libzmq parses (and resolves) a source part on bind too, then ignores it.
            source = _parse_host_port(source_text, endpoint, bindable=True)
            resolve_local(source, options.ipv6, endpoint, allow_dns=False)
        return endpoint, _parse_host_port(local_text, endpoint, bindable=True)

    def check_bind(self, address: str, options: TransportOptions) -> None:
        """Refuse what libzmq's bind refuses, without a DNS query (``listen`` makes those)."""
        endpoint, local = self.bind_target(address, options)
        resolve_local(local, options.ipv6, endpoint, allow_dns=True)

    def check_connect(self, address: str, options: TransportOptions) -> None:
        """Refuse addresses that can never connect; names and interfaces wait for ``open``."""
        parse_connect(address, options.ipv6, f"tcp://{address}")

    async def _resolve_bind(
        self, address: str, options: TransportOptions, ipv6: bool
    ) -> tuple[str, Resolved]:
        endpoint, local = self.bind_target(address, options)
        resolved = resolve_local(local, ipv6, endpoint, allow_dns=True)
        if resolved is None:
            resolved = await _resolve_name(local, ipv6, _AI_PASSIVE, endpoint, Errno.ENODEV)
        return endpoint, resolved

    async def listen(
        self, address: str, options: TransportOptions, factory: ProtocolFactory
    ) -> Listening:
        """Bind with SO_REUSEADDR, listen with BACKLOG, and report libzmq's LAST_ENDPOINT."""
        endpoint, resolved = await self._resolve_bind(address, options, options.ipv6)
        try:
            sock = _open_socket(resolved.family)
        except OSError as exc:
            if not (options.ipv6 and exc.errno == Errno.EAFNOSUPPORT):
                raise zmq_error(_errno_of(exc), f"{endpoint}: cannot open a socket: {exc}") from exc
            # libzmq tcp_open_socket(): no IPv6 in this kernel, so fall back to IPv4.
            endpoint, resolved = await self._resolve_bind(address, options, False)
            try:
                sock = _open_socket(resolved.family)
            except OSError as exc4:
                raise zmq_error(
                    _errno_of(exc4), f"{endpoint}: cannot open a socket: {exc4}"
                ) from exc4
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(resolved.sockaddr)
            except OSError as exc:
                raise zmq_error(
                    _errno_of(exc),
                    f"{endpoint}: cannot bind to {resolved.sockaddr[0]} port "
                    f"{resolved.sockaddr[1]}: {exc.strerror}",
                ) from exc
            bound = _endpoint_of(sock)
            loop = asyncio.get_running_loop()
            try:
                server = await loop.create_server(
                    _tuned_factory(factory, options), sock=sock, backlog=options.backlog
                )
            except OSError as exc:
                raise zmq_error(_errno_of(exc), f"{endpoint}: cannot listen: {exc}") from exc
        except BaseException:
            sock.close()
            raise
        return Listening(server, bound)

    async def _resolve_peer(self, part: HostPort, ipv6: bool, endpoint: str) -> Resolved:
        scope = _zone_id(part.zone, endpoint) if part.zone else None
        numeric = _numeric(part.host, _family(ipv6), _AI_V4MAPPED if ipv6 else 0)
        if numeric is not None:
            return with_port(numeric, part.port, scope)
        return await _resolve_name(part, ipv6, 0, endpoint, Errno.EINVAL)

    async def open(
        self, address: str, options: TransportOptions, factory: ProtocolFactory
    ) -> asyncio.Transport:
        """Resolve now (libzmq resolves at every attempt), bind the source, connect once."""
        endpoint = f"tcp://{address}"
        try:
            target = parse_connect(address, options.ipv6, endpoint)
            ipv6 = options.ipv6
            peer = await self._resolve_peer(target.peer, ipv6, endpoint)
            try:
                sock = _open_socket(peer.family)
            except OSError as exc:
                if not (ipv6 and exc.errno == Errno.EAFNOSUPPORT):
                    raise
                ipv6 = False  # libzmq tcp_open_socket(): fall back to IPv4
                peer = await self._resolve_peer(target.peer, ipv6, endpoint)
                sock = _open_socket(peer.family)
        except ZMQError as exc:
            # The engine retries on OSError, as libzmq's connecter retries a failed resolve.
            raise OSError(exc.errno, str(exc)) from exc
        try:
            tune(sock, options)
            if target.source is not None:
                try:
                    source = resolve_local(target.source, ipv6, endpoint, allow_dns=False)
                except ZMQError as exc:
                    raise OSError(exc.errno, str(exc)) from exc
                assert source is not None  # allow_dns=False never defers
                # libzmq: SO_REUSEADDR so one source port can reach several servers.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(source.sockaddr)
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            connecting = loop.sock_connect(sock, peer.sockaddr)
            if options.connect_timeout_ms > 0:
                try:
                    await asyncio.wait_for(connecting, options.connect_timeout_ms / 1000)
                except TimeoutError as exc:
                    raise TimeoutError(
                        Errno.ETIMEDOUT,
                        f"{endpoint}: no connection within CONNECT_TIMEOUT "
                        f"({options.connect_timeout_ms} ms)",
                    ) from exc
            else:
                await connecting
            transport, _ = await loop.create_connection(factory, sock=sock)
        except BaseException:
            sock.close()
            raise
        return transport

    def socket_peer_address(self, sock: PeerSocket) -> bytes:
        """Return the peer's IP as libzmq's get_peer_ip_address (getnameinfo, NUMERICHOST).

        A dual-stack listener reports IPv4 peers as ``::ffff:a.b.c.d``, and link-local peers
        carry ``%zone``, exactly as libzmq hands them to ZAP and to ``Peer-Address``.
        """
        try:
            peername = sock.getpeername()
        except OSError:  # the peer is already gone: no address, as libzmq's failed lookup
            return b""
        if not isinstance(peername, tuple) or not peername:
            return b""
        try:
            host, _ = socket.getnameinfo(peername, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
        except (OSError, ValueError, TypeError):
            host = str(peername[0])
        return host.encode("ascii", "replace")
