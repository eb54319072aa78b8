"""The examples are pyzmq programs: each must print the same under zmtp as under real pyzmq."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
ZMTP_IMPORT = "import zmtp as zmq"


def _run(source: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_behaves_as_under_pyzmq(example: Path) -> None:
    source = example.read_text()
    assert ZMTP_IMPORT in source
    under_zmtp = _run(source)
    under_pyzmq = _run(source.replace(ZMTP_IMPORT, "import zmq"))
    assert under_zmtp.strip(), "the example printed nothing"
    assert under_zmtp == under_pyzmq


def test_every_pattern_has_an_example() -> None:
    assert {path.stem for path in EXAMPLES} >= {"reqrep", "pubsub", "pipeline", "router_dealer"}
