"""The ``zmq`` compatibility package: ``import zmq`` resolves to zmtp only when asked to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import zmtp.compat

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def run_as_zmq(source: str) -> str:
    """Run ``source`` in a fresh interpreter whose ``import zmq`` is the compatibility package."""
    env = {**os.environ, "PYTHONPATH": zmtp.compat.path()}
    result = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_path_command_prints_the_package_directory() -> None:
    """``python -m zmtp.compat --path`` names a directory holding ``zmq/``."""
    result = subprocess.run(
        [sys.executable, "-m", "zmtp.compat", "--path"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    directory = Path(result.stdout.strip())
    assert (directory / "zmq" / "__init__.py").is_file()
    assert str(directory) == zmtp.compat.path()


def test_zmq_is_zmtp_and_no_libzmq_is_loaded() -> None:
    """With the path first, zmq is zmtp's package; pyzmq's backends and libzmq stay out."""
    out = run_as_zmq(
        "import sys, zmq, zmq.asyncio, zmq.error, zmq.constants, zmq.auth.thread,"
        " zmq.auth.asyncio, zmq.auth.certs, zmq.utils.z85, zmq.utils.monitor, zmq.utils.jsonapi\n"
        "print(zmq.__file__)\n"
        "print(any('libzmq' in line for line in open('/proc/self/maps')))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('zmq.backend.', 'zmtp.compat'))))\n"
        "import zmtp; print(zmq.backend.Socket is zmtp.Socket)\n"
        "print(zmq.zmq_version(), zmq.has('curve'), zmq.has('pgm'), zmq.Message is zmq.Frame)\n"
    )
    file, libzmq, backend, same_socket, versions = out.splitlines()
    assert file.startswith(zmtp.compat.path())
    assert libzmq == "False"
    assert backend == "[]", "neither pyzmq's Cython nor its CFFI backend"
    assert same_socket == "True"
    assert versions == "4.3.5 True False True"


def test_plain_python_does_not_see_it() -> None:
    """Without the path, ``import zmq`` is whatever is installed (here: real pyzmq)."""
    import zmq  # noqa: PLC0415

    assert not zmq.__file__.startswith(zmtp.compat.path())


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_examples_run_unchanged_as_zmq(example: Path) -> None:
    """The pyzmq example programs, with ``import zmq``, print what they print under zmtp."""
    source = example.read_text()
    as_pyzmq_program = source.replace("import zmtp as zmq", "import zmq")
    out = run_as_zmq(as_pyzmq_program)
    assert out.strip(), "the example printed nothing"
    direct = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out == direct
