"""``python -m zmtp.compat --path``: print where the ``zmq`` compatibility package lives."""

from __future__ import annotations

import argparse

from zmtp.compat import path


def main() -> None:
    """Print the directory to put first on PYTHONPATH so that ``import zmq`` is zmtp."""
    parser = argparse.ArgumentParser(prog="python -m zmtp.compat", description=main.__doc__)
    parser.add_argument("--path", action="store_true", help="print the directory and exit")
    parser.parse_args()
    print(path())


if __name__ == "__main__":
    main()
