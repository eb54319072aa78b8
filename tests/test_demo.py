"""The README's first command runs this demo: it must keep working, with and without libzmq."""

import subprocess
import sys

_BLOCK_PYZMQ = "import sys; sys.modules['zmq'] = None; from zmtp.demo import main; main()"


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_talks_to_libzmq_and_dissects_every_phase() -> None:
    out = _run("-m", "zmtp.demo")
    assert "peer: libzmq 4." in out
    assert "libzmq -> greeting signature ff 00 00 00 00 00 00 00 01 7f" in out
    assert "zmtp -> READY Socket-Type=b'DEALER' Identity=b'demo'" in out
    assert "libzmq ROUTER got b'What is 6 x 7?' from routing id b'demo'" in out
    assert "zmtp got [[b'', b'42']]" in out
    assert "libzmq -> PONG" in out
    assert "libzmq -> SUBSCRIBE topic=b'weather.'" in out
    assert "libzmq SUB got [b'weather.paris', b'sunny, 21 C']" in out
    # The broker: every request of both clients answered by one of the two workers.
    answers = [line for line in out.splitlines() if " client got " in line]
    assert len(answers) == 4
    for client in ("zmtp", "libzmq"):
        for number in (0, 1):
            assert any(
                line.startswith(f"  {client} client got")
                and f"REQUEST {number} FROM {client.upper()} CLIENT" in line
                for line in answers
            ), answers


def test_demo_without_pyzmq_uses_a_zmtp_peer() -> None:
    out = _run("-c", _BLOCK_PYZMQ)
    assert "pyzmq is not installed" in out
    assert "zmtp got [[b'', b'42']]" in out
    assert "zmtp client got 'zmtp worker: REQUEST 0 FROM ZMTP CLIENT'" in out
