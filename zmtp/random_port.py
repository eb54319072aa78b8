"""``bind_to_random_port`` for every front end: pyzmq's rules on top of any ``bind``."""

from __future__ import annotations

import random
from collections.abc import Callable

from zmtp.constants import Errno
from zmtp.errors import ZMQBindError, ZMQError

# pyzmq's default range: asking for it means "any free port will do".
DEFAULT_MIN_PORT = 49152
DEFAULT_MAX_PORT = 65536


def bind_to_random_port(
    bind: Callable[[str], object],
    last_endpoint: Callable[[], str],
    addr: str,
    *,
    min_port: int,
    max_port: int,
    max_tries: int,
) -> int:
    """Bind ``addr`` on a port in ``[min_port, max_port)`` and return the port.

    As pyzmq: with the default range the kernel picks a free port (``:*``) and LAST_ENDPOINT
    says which; with a range of its own, up to ``max_tries`` random ports of it are tried,
    skipping those in use (EADDRINUSE) or forbidden (EACCES).
    """
    if min_port == DEFAULT_MIN_PORT and max_port == DEFAULT_MAX_PORT:
        bind(f"{addr}:*")
        return int(last_endpoint().rsplit(":", 1)[1])
    for _ in range(max_tries):
        port = random.randrange(min_port, max_port)
        try:
            bind(f"{addr}:{port}")
        except ZMQError as exc:
            if exc.errno not in (Errno.EADDRINUSE, Errno.EACCES):
                raise
        else:
            return port
    raise ZMQBindError(Errno.EADDRINUSE, "Could not bind socket to random port.")
