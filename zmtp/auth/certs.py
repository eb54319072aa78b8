"""CURVE certificates on disk, in the ZPL files czmq and pyzmq's ``zmq.auth.certs`` use.

A certificate pair is ``NAME.key`` (public key only, safe to hand out) and ``NAME.key_secret``
(public and secret key, plus any metadata). Files are written line for line as pyzmq writes
them, so either library loads the other's: a comment banner, a ``metadata`` section, and a
``curve`` section holding ``public-key = "..."`` and, in the secret file, ``secret-key = "..."``
as 40 Z85 characters. The secret file is created readable by its owner only.

Loading checks what it reads (a 40-character Z85 key, a secret key that belongs to the public
key) instead of handing a mangled key to a socket option, where the failure would surface much
later as an unexplained handshake refusal.
"""

from __future__ import annotations

import datetime
import errno
import os
import re
from collections.abc import Mapping
from pathlib import Path

from zmtp import z85
from zmtp.curve_keys import Z85_KEY_SIZE, curve_keypair, curve_public

__all__ = ["create_certificates", "load_certificate", "load_certificates"]

PathLike = str | os.PathLike[str]

_PUBLIC_BANNER = """\
#   ****  Generated on {now} by zmtp  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

"""

_SECRET_BANNER = """\
#   ****  Generated on {now} by zmtp  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

"""

_CURVE_SECTION = "curve"


def create_certificates(
    key_dir: PathLike,
    name: str,
    metadata: Mapping[str, str | bytes] | None = None,
    *,
    secret_key: bytes | str | None = None,
) -> tuple[str, str]:
    """Write a new key pair as ``key_dir/name.key`` and ``key_dir/name.key_secret``.

    Returns the two paths (public first), as pyzmq does. ``metadata`` goes into the secret
    file's ``metadata`` section only, again as pyzmq does. ``key_dir`` must exist.
    ``secret_key`` (40 Z85 characters or 32 raw bytes; a zmtp addition) writes the pair of
    an existing key instead of a new one, so a key made elsewhere can be stored as a
    certificate.
    """
    if secret_key is None:
        public, secret = curve_keypair()
    else:
        public = curve_public(secret_key)  # raises ValueError unless it is a key
        text = secret_key.encode("ascii") if isinstance(secret_key, str) else bytes(secret_key)
        secret = text if len(text) == Z85_KEY_SIZE else z85.encode(text)
    now = datetime.datetime.now()
    entries = _metadata_lines(metadata or {})
    base = os.path.join(os.fspath(key_dir), name)
    public_file, secret_file = f"{base}.key", f"{base}.key_secret"
    _write(public_file, _PUBLIC_BANNER.format(now=now), [], public, None, mode=0o644)
    _write(secret_file, _SECRET_BANNER.format(now=now), entries, public, secret, mode=0o600)
    return public_file, secret_file


def load_certificate(filename: PathLike) -> tuple[bytes, bytes | None]:
    """Return ``(public_key, secret_key)`` from a certificate, each as 40 Z85 characters.

    Either file of a pair may be given; ``secret_key`` is None for a public certificate.
    Raises FileNotFoundError (an OSError) when there is no such file, and ValueError naming the
    file when it is not a readable certificate: no public key, a key that is not 40 Z85
    characters, or a secret key that does not belong to the public key.
    """
    path = Path(filename)
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "no CURVE certificate file", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a CURVE certificate (not UTF-8 text: {exc})") from None
    curve = _parse_zpl(text, path).get(_CURVE_SECTION, {})
    if "public-key" not in curve:
        raise ValueError(f"{path}: no public-key in a 'curve' section; not a CURVE certificate")
    public = _checked_key(curve["public-key"], "public-key", path)
    if "secret-key" not in curve:
        return public, None
    secret = _checked_key(curve["secret-key"], "secret-key", path)
    if curve_public(secret) != public:
        raise ValueError(f"{path}: the secret-key does not belong to the public-key")
    return public, secret


def load_certificates(directory: PathLike = ".") -> dict[bytes, bool]:
    """Return ``{public_key: True}`` for every ``*.key`` certificate in ``directory``.

    The keys are 40 Z85 characters (bytes), as pyzmq's authenticator compares them. Secret
    files (``*.key_secret``) are not read. Raises NotADirectoryError when ``directory`` is not
    a directory, and ValueError for a malformed ``*.key`` file rather than skipping it: a
    silently missing client key would only show up as a refused connection.
    """
    path = Path(directory)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "no CURVE certificate directory", str(path))
    return {load_certificate(cert)[0]: True for cert in sorted(path.glob("*.key"))}


# -- writing -----------------------------------------------------------------------------------


def _metadata_lines(metadata: Mapping[str, str | bytes]) -> list[tuple[str, str]]:
    """Metadata as text pairs; refuse what would break the line-based format."""
    lines = []
    for key, value in metadata.items():
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        if any(c in "\r\n" for c in key + text) or not key.strip() or "=" in key:
            raise ValueError(f"metadata {key!r} = {text!r} cannot be written to a certificate")
        lines.append((key, text))
    return lines


def _write(
    filename: str,
    banner: str,
    metadata: list[tuple[str, str]],
    public: bytes,
    secret: bytes | None,
    *,
    mode: int,
) -> None:
    parts = [banner, "metadata\n"]
    parts += [f"    {key} = {value}\n" for key, value in metadata]
    parts += ["curve\n", f'    public-key = "{public.decode("ascii")}"\n']
    if secret is not None:
        parts.append(f'    secret-key = "{secret.decode("ascii")}"\n')
    # os.open applies ``mode`` at creation, so the secret is never readable by others, not
    # even between creating and writing the file.
    descriptor = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write("".join(parts))


# -- reading -----------------------------------------------------------------------------------


def _parse_zpl(text: str, path: Path) -> dict[str, dict[str, str]]:
    """Return the ``name = value`` entries of each top-level section of a ZPL file (RFC 4).

    Certificates only nest one level deep, so a line is either a section name (not indented)
    or an entry of the section above it (indented); comments and blank lines are skipped.
    """
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():  # not indented: a section name
            current = sections.setdefault(line.split("#", 1)[0].strip(), {})
            continue
        name, equals, value = stripped.partition("=")
        if not equals or current is None:
            raise ValueError(f"{path}, line {number}: expected 'name = value' in a section")
        current[name.strip()] = _zpl_value(value.strip())
    return sections


def _zpl_value(value: str) -> str:
    """Return a ZPL value without its quotes, or without a trailing comment when unquoted.

    Z85 keys may contain ``#``, so only a ``#`` after whitespace starts a comment: an unquoted
    key (which pyzmq loads too) then still reads whole.
    """
    if value[:1] in ("'", '"'):
        closing = value.find(value[0], 1)
        return value[1:closing] if closing != -1 else value[1:]
    return re.split(r"\s#", value, maxsplit=1)[0].strip()


def _checked_key(value: str, name: str, path: Path) -> bytes:
    """Return a key as 40 Z85 characters (ASCII bytes), or raise ValueError saying why not."""
    if len(value) != Z85_KEY_SIZE:
        raise ValueError(f"{path}: {name} must be {Z85_KEY_SIZE} Z85 characters, not {value!r}")
    try:
        z85.decode(value)
    except ValueError as exc:
        raise ValueError(f"{path}: {name} is not valid Z85: {exc}") from None
    return value.encode("ascii")
