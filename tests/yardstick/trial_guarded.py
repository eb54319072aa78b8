"""Run Twisted's ``trial`` with the yardstick's checks before and after (``import zmq`` is zmtp).

``trial`` exits through ``SystemExit``; the check after the run replaces its exit status when a
libzmq was loaded on the way, so a run that measured libzmq can never count as ours.
"""

from __future__ import annotations

import sys

from twisted.scripts.trial import run
from yardstick_guard import check_no_libzmq, check_zmq_is_zmtp, reference_run


def main() -> None:
    """Check, run trial with our arguments, check again."""
    if not reference_run():
        check_zmq_is_zmtp()
        check_no_libzmq()
    sys.argv = ["trial", *sys.argv[1:]]
    try:
        run()
    finally:
        if not reference_run():
            check_no_libzmq()


if __name__ == "__main__":
    main()
