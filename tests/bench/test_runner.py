"""The benchmark runner works end to end: it measures, it reports, a stall fails with a message.

No assertion here is about speed: timings depend on the machine and its load, and a test that
judged them would fail at random.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import BenchError, Worker
from bench.run import main
from bench.workers import WorkerSpec

REPO = Path(__file__).resolve().parents[2]


def cells(report: str, label: str) -> list[str]:
    """The cells of the result row whose first cell is ``label``."""
    for line in report.splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if parts[0] == label:
            return parts
    raise AssertionError(f"no row {label!r} in the report:\n{report}")


def test_quick_run_of_two_figures_writes_the_expected_rows(tmp_path: Path) -> None:
    report_path = tmp_path / "RESULTS.md"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--only",
            "thr-tcp-16B,lat-ipc-16B",
            "--count",
            "200",
            "--rounds",
            "2",
            "--timeout",
            "10",
            "--no-chart",
            "--output",
            str(report_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = report_path.read_text()

    for label, unit in [
        ("PUSH→PULL tcp 16B", "msg/s"),
        ("REQ↔REP ipc 16B median", "µs"),
        ("REQ↔REP ipc 16B p99", "µs"),
    ]:
        row = cells(report, label)
        assert row[1] == unit
        # zmtp value, spread, pyzmq value, spread, ratio: all present, ratio as "<n>x".
        assert all(cell and cell != "—" for cell in row[2:7]), row
        assert row[6].endswith("x"), row
    assert "thr-inproc-16B" not in report  # --only kept the others out
    for detail in ("CPU count", "Python", "pyzmq", "libzmq"):
        assert f"| {detail} |" in report
    assert "PUSH→PULL tcp 16B" in completed.stdout  # the table is printed too
    assert "[2/2] lat-ipc-16B" in completed.stderr  # and progress is shown


def test_a_stalled_worker_fails_with_a_message_instead_of_hanging() -> None:
    # A PULL socket that nobody sends to: its RCVTIMEO turns the stall into an error report.
    spec = WorkerSpec(role="pull", library="zmtp", address="tcp://127.0.0.1:*", stall_ms=300)
    worker = Worker(spec, "lonely-pull")
    try:
        assert worker.answer(timeout=20).startswith("tcp://127.0.0.1:")
        with pytest.raises(BenchError, match=r"lonely-pull: pull \(zmtp\): Again"):
            worker.call("run", 10, timeout=20)
    finally:
        worker.stop()
    assert not worker.process.is_alive()


def test_only_refuses_a_pattern_that_selects_nothing() -> None:
    with pytest.raises(SystemExit, match="no figure matches nope"):
        main(["--only", "nope"])
