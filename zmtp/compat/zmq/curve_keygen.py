"""``python -m zmq.curve_keygen``: pyzmq's CURVE key pair generator, from :mod:`zmtp.curve_keygen`.

pyzmq's options and output, plus zmtp's ``--certificate``; the help names this module.
"""

from __future__ import annotations

import sys

from zmtp.curve_keygen import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main(prog="python3 -m zmq.curve_keygen"))
