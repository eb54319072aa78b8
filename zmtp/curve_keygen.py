"""``python -m zmtp.curve_keygen``: make a CURVE key pair (or the public key of a secret one).

The output is what libzmq's ``curve_keygen`` and pyzmq's ``python -m zmq.curve_keygen`` print,
so scripts that read theirs read ours: the public key under ``== CURVE PUBLIC KEY ==``, a blank
line, the secret key under ``== CURVE SECRET KEY ==``; or, with ``--json``, one object with
``"public"`` and ``"secret"``. ``--secret`` derives the public key of an existing secret key
instead of making a new pair. ``--certificate PATH`` (zmtp's addition) also writes the pair as
``PATH.key`` and ``PATH.key_secret``, the certificate files :mod:`zmtp.auth` loads. Keys are
always 40 Z85 characters.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from zmtp.auth.certs import create_certificates
from zmtp.curve_keys import curve_keypair, curve_public

__all__ = ["main"]

PROG = "python -m zmtp.curve_keygen"


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status.

    ``prog`` is the name the help shows, so a re-export (``zmq.curve_keygen``) names itself.
    Invalid arguments (a secret that is not a key) exit with status 2 and a message saying
    which, as argparse does for its own; certificates that cannot be written exit with 1.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Print a new CURVE key pair, or the public key of --secret, in Z85.",
    )
    parser.add_argument("--json", action="store_true", help="print the keys as a JSON object")
    parser.add_argument(
        "--secret", metavar="SECRET", help="derive the public key of this Z85 secret key"
    )
    parser.add_argument(
        "--certificate",
        metavar="PATH",
        help="also write the pair as the certificates PATH.key and PATH.key_secret",
    )
    options = parser.parse_args(argv)

    if options.secret is not None:
        try:
            public = curve_public(options.secret).decode("ascii")
        except ValueError as exc:
            parser.error(f"--secret: {exc}")
        secret = options.secret
    else:
        public_b, secret_b = curve_keypair()
        public, secret = public_b.decode("ascii"), secret_b.decode("ascii")

    if options.certificate is not None:
        directory, name = os.path.split(options.certificate)
        if not name:
            parser.error(f"--certificate {options.certificate!r} names no file")
        try:
            create_certificates(directory or ".", name, secret_key=secret)
        except OSError as exc:
            parser.exit(1, f"{prog}: error: cannot write the certificates: {exc}\n")

    if options.json:
        sys.stdout.write(json.dumps({"public": public, "secret": secret}, indent=1) + "\n")
    else:
        sys.stdout.write(f"== CURVE PUBLIC KEY ==\n{public}\n\n== CURVE SECRET KEY ==\n{secret}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
