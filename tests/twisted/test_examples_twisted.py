"""The Twisted examples run end to end, each as its own program (bounded)."""

from __future__ import annotations

import selectors
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples" / "twisted"
BOUND = 20.0


def _run(name: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_service_example_answers_in_both_styles() -> None:
    assert _run("service.py").splitlines() == [
        "upper: [b'TWISTED']",
        "upper: [b'ZEROMQ']",
        "reverse: [[b'desserts'], [b'reward']]",
    ]


def test_txzmq_service_example_answers() -> None:
    assert _run("txzmq_service.py") == "replies: [[b'hello, txZMQ'], [b'hello, zmtp']]\n"


def _seed(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-u", str(EXAMPLES / "pub_sub.py"), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_line_with(process: subprocess.Popen[str], text: str) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + BOUND
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline()
            if not line:
                break
            if text in line:
                return line
    raise AssertionError(f"no line with {text!r} from {process.args}")


def test_seed_pub_sub_example_runs_with_only_its_imports_changed(tmp_path: Path) -> None:
    """The seed's two-program example: a publisher binds, a subscriber connects."""
    endpoint = f"ipc://{tmp_path}/sock"
    publisher = _seed("--method=bind", f"--endpoint={endpoint}", "--mode=publisher")
    subscriber = _seed("--method=connect", f"--endpoint={endpoint}", "--mode=subscriber")
    try:
        published = _first_line_with(publisher, "publishing")
        received = _first_line_with(subscriber, "message received")
    finally:
        for process in (publisher, subscriber):
            process.kill()
            process.communicate()
    assert published.startswith("publishing '")
    # The publisher sends str(time.time()); the subscriber's callback gets the frames as a list.
    timestamp = received.removeprefix("message received: [b'").removesuffix("']\n")
    assert float(timestamp) > 0
