"""Which mechanism the security options select, as libzmq's ``options.cpp`` decides it.

There is no option that names the mechanism: the last PLAIN or CURVE option set decides it and
the role (``as_server``) together, and MECHANISM, PLAIN_SERVER and CURVE_SERVER read that state
back. Checked against libzmq 4.3.5 option sequence by option sequence (tests/core).
"""

from __future__ import annotations

from collections.abc import MutableMapping

from zmtp.constants import SocketOption

_O = SocketOption

NULL, PLAIN, CURVE = 0, 1, 2
"""MECHANISM values (ZMQ_NULL, ZMQ_PLAIN, ZMQ_CURVE)."""

SECURITY_OPTIONS = frozenset(
    {
        _O.PLAIN_SERVER,
        _O.PLAIN_USERNAME,
        _O.PLAIN_PASSWORD,
        _O.CURVE_SERVER,
        _O.CURVE_SERVERKEY,
        _O.CURVE_PUBLICKEY,
        _O.CURVE_SECRETKEY,
    }
)


def select_mechanism(
    options: MutableMapping[SocketOption, int | bytes],
    as_server: bool,
    option: SocketOption,
    value: int | bytes,
) -> bool:
    """Apply the mechanism side effect of setting ``option``; return the new ``as_server``.

    PLAIN_SERVER/CURVE_SERVER choose their mechanism as server (1) or NULL (0); a PLAIN user
    name or password makes a PLAIN client; a CURVE server key makes a CURVE client; a CURVE
    public or secret key selects CURVE and leaves the role alone.
    """
    if option in (_O.PLAIN_SERVER, _O.CURVE_SERVER):
        as_server = bool(value)
        chosen = PLAIN if option is _O.PLAIN_SERVER else CURVE
        mechanism = chosen if as_server else NULL
    elif option in (_O.PLAIN_USERNAME, _O.PLAIN_PASSWORD):
        as_server = False
        mechanism = PLAIN
    elif option is _O.CURVE_SERVERKEY:
        as_server = False
        mechanism = CURVE
    else:
        mechanism = CURVE
    options[_O.MECHANISM] = mechanism
    options[_O.PLAIN_SERVER] = int(as_server and mechanism == PLAIN)
    options[_O.CURVE_SERVER] = int(as_server and mechanism == CURVE)
    return as_server
