"""ZAP authentication (RFC 27) for zmtp servers, with the API of pyzmq's ``zmq.auth``.

Start an authenticator in the context of the server sockets before they accept connections,
then configure it::

    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.allow("127.0.0.1")
    auth.configure_plain(domain="*", passwords={"admin": "secret"})

Servers (PLAIN and CURVE always, NULL when ``zap_domain`` is set) then ask it about each
new client. :mod:`zmtp.auth.certs` reads and writes CURVE certificates as pyzmq and czmq do.
"""

from __future__ import annotations

from zmtp.auth.asyncio import AsyncioAuthenticator
from zmtp.auth.base import CURVE_ALLOW_ANY, Authenticator
from zmtp.auth.certs import create_certificates, load_certificate, load_certificates
from zmtp.auth.thread import ThreadAuthenticator

__all__ = [
    "CURVE_ALLOW_ANY",
    "AsyncioAuthenticator",
    "Authenticator",
    "ThreadAuthenticator",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]
