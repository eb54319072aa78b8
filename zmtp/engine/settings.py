"""What a socket's option values mean to the layers below it, for every event-loop driver.

The asyncio engine and the Twisted driver both build a connection's ZMTP options, its security
mechanism and its transport settings from the same socket options; these functions are that
translation, kept in one place so both drivers negotiate exactly alike.
"""

from __future__ import annotations

import random

from transports.base import TransportOptions
from zmtp.connection import ConnectionOptions
from zmtp.constants import SocketOption
from zmtp.mechanisms.base import Mechanism
from zmtp.mechanisms.curve import CurveClient, CurveServer
from zmtp.mechanisms.null import NullMechanism
from zmtp.mechanisms.plain import PlainClient, PlainServer
from zmtp.mechanisms.selection import CURVE, NULL, PLAIN
from zmtp.sockets.base import SocketCore

_O = SocketOption


def int_option(core: SocketCore, option: SocketOption) -> int:
    """Return an integer option, 0 if the socket type does not have it."""
    value = core.options.get(option, 0)
    return value if isinstance(value, int) else 0


def reconnect_delay(core: SocketCore, interval: int) -> tuple[int, int] | None:
    """Return the wait before the next connect attempt and the interval after it, in ms.

    libzmq's rule: with RECONNECT_IVL_MAX set, the interval doubles from RECONNECT_IVL up to
    the maximum; without it, each wait is random in [RECONNECT_IVL, 2 x RECONNECT_IVL), so many
    peers do not come back in step. None when RECONNECT_IVL is -1 (or 0): no reconnecting.
    """
    base = int_option(core, SocketOption.RECONNECT_IVL)
    if base <= 0:
        return None
    maximum = int_option(core, SocketOption.RECONNECT_IVL_MAX)
    if maximum > 0:
        return interval, min(interval * 2, maximum)
    return base + random.randrange(base), interval


def bytes_option(core: SocketCore, option: SocketOption) -> bytes:
    """Return a bytes option, b"" if the socket type does not have it."""
    value = core.options.get(option, b"")
    return value if isinstance(value, bytes) else b""


def zap_domain(core: SocketCore, zap_bound: bool) -> bytes | None:
    """Return the ZAP domain if this socket's connections must consult ZAP, else None.

    libzmq asks ZAP only when a handler is bound, and then for PLAIN and CURVE servers
    always, for NULL only when ZAP_DOMAIN is set.
    """
    if not zap_bound:
        return None
    domain = bytes_option(core, _O.ZAP_DOMAIN)
    if int_option(core, _O.MECHANISM) == NULL and not domain:
        return None
    return domain


def connection_options(
    core: SocketCore, *, zap_bound: bool, peer_address: bytes = b""
) -> ConnectionOptions:
    """Build a ConnectionOptions from the socket's current option values."""
    heartbeat_timeout = int_option(core, _O.HEARTBEAT_TIMEOUT)
    return ConnectionOptions(
        socket_type=core.socket_type,
        routing_id=bytes_option(core, _O.ROUTING_ID),
        max_message_size=int_option(core, _O.MAXMSGSIZE),
        handshake_interval=int_option(core, _O.HANDSHAKE_IVL) / 1000,
        heartbeat_interval=int_option(core, _O.HEARTBEAT_IVL) / 1000,
        heartbeat_ttl=int_option(core, _O.HEARTBEAT_TTL) / 1000,
        heartbeat_timeout=None if heartbeat_timeout < 0 else heartbeat_timeout / 1000,
        peer_address=peer_address,
        zap_domain=zap_domain(core, zap_bound),
    )


def mechanism(core: SocketCore) -> Mechanism:
    """Create the handshake machine of one connection, as the security options select."""
    selected = int_option(core, _O.MECHANISM)
    if selected == PLAIN:
        if core.as_server:
            return PlainServer()
        return PlainClient(
            bytes_option(core, _O.PLAIN_USERNAME), bytes_option(core, _O.PLAIN_PASSWORD)
        )
    if selected == CURVE:
        if core.as_server:
            return CurveServer(bytes_option(core, _O.CURVE_SECRETKEY))
        return CurveClient(
            bytes_option(core, _O.CURVE_SERVERKEY),
            bytes_option(core, _O.CURVE_PUBLICKEY),
            bytes_option(core, _O.CURVE_SECRETKEY),
        )
    return NullMechanism()


def transport_options(core: SocketCore) -> TransportOptions:
    """Build the options a transport needs."""
    return TransportOptions(
        ipv6=bool(int_option(core, _O.IPV6)),
        backlog=int_option(core, _O.BACKLOG),
        tcp_keepalive=int_option(core, _O.TCP_KEEPALIVE),
        tcp_keepalive_idle=int_option(core, _O.TCP_KEEPALIVE_IDLE),
        tcp_keepalive_cnt=int_option(core, _O.TCP_KEEPALIVE_CNT),
        tcp_keepalive_intvl=int_option(core, _O.TCP_KEEPALIVE_INTVL),
        connect_timeout_ms=int_option(core, _O.CONNECT_TIMEOUT),
    )
