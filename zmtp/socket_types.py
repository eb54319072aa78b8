"""Which socket types may talk to which (RFC 37 'Socket type compatibility').

The table is the one libzmq enforces in ``mechanism_t::check_socket_type``. STREAM and DGRAM
speak no ZMTP and so appear in no row.
"""

from __future__ import annotations

from zmtp.constants import SocketType

_T = SocketType

VALID_PEERS: dict[SocketType, frozenset[SocketType]] = {
    _T.REQ: frozenset({_T.REP, _T.ROUTER}),
    _T.REP: frozenset({_T.REQ, _T.DEALER}),
    _T.DEALER: frozenset({_T.REP, _T.DEALER, _T.ROUTER}),
    _T.ROUTER: frozenset({_T.REQ, _T.DEALER, _T.ROUTER}),
    _T.PUB: frozenset({_T.SUB, _T.XSUB}),
    _T.XPUB: frozenset({_T.SUB, _T.XSUB}),
    _T.SUB: frozenset({_T.PUB, _T.XPUB}),
    _T.XSUB: frozenset({_T.PUB, _T.XPUB}),
    _T.PUSH: frozenset({_T.PULL}),
    _T.PULL: frozenset({_T.PUSH}),
    _T.PAIR: frozenset({_T.PAIR}),
    _T.CLIENT: frozenset({_T.SERVER}),
    _T.SERVER: frozenset({_T.CLIENT}),
    _T.RADIO: frozenset({_T.DISH}),
    _T.DISH: frozenset({_T.RADIO}),
    _T.SCATTER: frozenset({_T.GATHER}),
    _T.GATHER: frozenset({_T.SCATTER}),
    _T.PEER: frozenset({_T.PEER}),
    _T.CHANNEL: frozenset({_T.CHANNEL}),
}

# Socket types whose READY carries an ``Identity`` property. libzmq sends it from exactly these,
# always, with an empty value when no routing id is set (meaning "assign one for me").
SENDS_IDENTITY: frozenset[SocketType] = frozenset({_T.REQ, _T.DEALER, _T.ROUTER})


def socket_type_from_name(name: bytes) -> SocketType | None:
    """Map a ``Socket-Type`` property value (``b"DEALER"``) to its type; None if unknown."""
    try:
        return SocketType[name.decode("ascii")]
    except (UnicodeDecodeError, KeyError):
        return None


def is_valid_peer(ours: SocketType, theirs: SocketType) -> bool:
    """Return whether a socket of type ``ours`` accepts a peer of type ``theirs``."""
    return theirs in VALID_PEERS.get(ours, frozenset())
