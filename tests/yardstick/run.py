"""Issue 7's yardsticks: pyzmq 27.2.0's own tests and txZMQ 1.0.0's, run on zmtp's ``zmq`` package.

``make yardstick`` (part of ``make test``) runs this in ``.venv-yardstick``, a venv that has
zmtp, pytest, pytest-asyncio, pytest-timeout, Twisted and txZMQ but **no pyzmq**: ``import zmq``
only works through ``python -m zmtp.compat --path``, and ``yardstick_guard`` proves at both
ends of each run that ``zmq`` was zmtp's package and that no libzmq was loaded.

pyzmq's tests come from its sdist on PyPI (pinned by SHA-256, cached in ``.yardstick/``); only
``tests/`` and ``pytest.ini`` are extracted into a scratch directory, so pyzmq's own ``zmq``
source package cannot shadow ours. txZMQ's tests ship inside its wheel and run with ``trial``.

The files next to this one are the contract, and the run fails when an outcome disagrees with
them in either direction (a listed test that now passes must come off its list):

- ``pyzmq-deselected.txt``: tests that cannot apply to an implementation without libzmq; not run.
- ``pyzmq-failing.txt``, ``txzmq-failing.txt``: tests that run and do not pass on zmtp yet.
- ``reference.json``: what real pyzmq 27.2.0 (libzmq 4.3.5) did with the same files on this
  machine, recorded by ``--reference --record`` in a venv with pyzmq. A test skipped on zmtp
  but not by real pyzmq counts as a failure.

Every entry of the two lists carries its reason after `` | ``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = ROOT / ".yardstick"

PYZMQ_SDIST = (
    "https://files.pythonhosted.org/packages/e7/8d/"
    "5b3d5631c2f4b4b8862f64cd0c9eb777b5710eeb5125b4be8dd0a200a4c0/pyzmq-27.2.0.tar.gz"
)
PYZMQ_SHA256 = "54d4259d1bfae24ecdb5ca79f7acc2eac6c286a02d6a0ae617797cb45f0726d3"
# The files issue 7 names.
PYZMQ_FILES = [
    "test_socket",
    "test_reqrep",
    "test_pair",
    "test_pubsub",
    "test_multipart",
    "test_poll",
    "test_message",
    "test_error",
    "test_constants",
    "test_z85",
    "test_version",
    "test_imports",
    "test_ext",
    "test_context",
    "test_asyncio",
    "test_security",
    "test_monitor",
    "test_device",
    "test_monqueue",
    "test_etc",
]
# More of pyzmq's files that apply to zmtp, held to the same rules.
PYZMQ_MORE_FILES = [
    "test_auth",
    "test_curve_keygen",
    "test_log",
    "test_decorators",
    "test_ssh",
    "test_retry_eintr",
    "test_includes",
]
# Long enough for pyzmq's slowest test on this 2-core machine (about 2 s with real pyzmq);
# a test that hangs on zmtp costs at most this much.
TEST_TIMEOUT_S = 30
# How the summary groups each suite's tests (None: all of them).
GROUPS: dict[str, dict[str, list[str] | None]] = {
    "pyzmq": {
        "pyzmq 27.2.0, issue 7's 20 files": PYZMQ_FILES,
        f"pyzmq 27.2.0, {len(PYZMQ_MORE_FILES)} more files": PYZMQ_MORE_FILES,
    },
    "txzmq": {"txZMQ 1.0.0, trial txzmq": None},
}
# trial's tree reporter: "    test_name ...      [OK]" under its class and module lines.
TRIAL_LINE = re.compile(r"^(?P<indent> *)(?P<name>\S+)(?: \.\.\. +\[(?P<status>[A-Z ]+)\])?$")
TRIAL_STATUS = {"OK": "passed", "FAIL": "failed", "ERROR": "error", "SKIPPED": "skipped"}


@dataclass
class Outcomes:
    """One suite's outcome per test id, with the reasons given for skips."""

    by_test: dict[str, str] = field(default_factory=dict)
    skip_reasons: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        """Return how many tests had ``outcome``."""
        return sum(1 for value in self.by_test.values() if value == outcome)

    def ids(self, *outcomes: str) -> set[str]:
        """Return the ids of the tests whose outcome is one of ``outcomes``."""
        return {test for test, value in self.by_test.items() if value in outcomes}


def read_list(name: str) -> dict[str, str]:
    """Read ``test id | reason`` lines; a line without a reason is an error in the list."""
    entries: dict[str, str] = {}
    path = HERE / name
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test, sep, reason = (part.strip() for part in line.partition("|"))
        if not sep or not reason:
            raise SystemExit(f"{path}:{number}: entry without a reason: {line!r}")
        entries[test] = reason
    return entries


def fetch_pyzmq_tests(scratch: Path) -> None:
    """Put pyzmq 27.2.0's ``tests/`` and ``pytest.ini`` (nothing else) into ``scratch``."""
    CACHE.mkdir(exist_ok=True)
    sdist = CACHE / PYZMQ_SDIST.rsplit("/", 1)[1]
    if not sdist.exists() or hashlib.sha256(sdist.read_bytes()).hexdigest() != PYZMQ_SHA256:
        print(f"yardstick: downloading {PYZMQ_SDIST}", flush=True)
        with urllib.request.urlopen(PYZMQ_SDIST, timeout=120) as response:
            data = response.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != PYZMQ_SHA256:
            raise SystemExit(f"yardstick: {sdist.name} has SHA-256 {digest}, not {PYZMQ_SHA256}")
        sdist.write_bytes(data)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    top = "pyzmq-27.2.0/"
    with tarfile.open(sdist) as archive:
        wanted = [
            member
            for member in archive.getmembers()
            if member.name == top + "pytest.ini" or member.name.startswith(top + "tests/")
        ]
        for member in wanted:
            member.name = member.name.removeprefix(top)
        archive.extractall(scratch, members=wanted, filter="data")


def environment(reference: bool, results: Path | None = None) -> dict[str, str]:
    """Return the environment of a suite's process: zmtp's ``zmq`` first unless ``reference``."""
    env = dict(os.environ)
    paths = [str(HERE)]
    if reference:
        env["YARDSTICK_MODE"] = "reference"
    else:
        compat = subprocess.run(
            [sys.executable, "-m", "zmtp.compat", "--path"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        env["YARDSTICK_COMPAT"] = compat
        paths.insert(0, compat)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    # pyzmq's conftest arms its own SIGALRM when this is set, which fights pytest-timeout.
    env.pop("ZMQ_TEST_TIMEOUT", None)
    if results is not None:
        env["YARDSTICK_RESULTS"] = str(results)
    return env


def check_no_pyzmq() -> None:
    """Refuse to run when this interpreter can import a ``zmq`` on its own (a real pyzmq)."""
    probe = subprocess.run(
        [sys.executable, "-c", "import importlib.util; print(importlib.util.find_spec('zmq'))"],
        check=True,
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    )
    if probe.stdout.strip() != "None":
        raise SystemExit(f"yardstick: this venv has its own zmq ({probe.stdout.strip()})")


def run_pyzmq_suite(reference: bool) -> Outcomes:
    """Run the listed pyzmq test files, minus the deselected ones; return the outcomes."""
    scratch = CACHE / "pyzmq-tests"
    fetch_pyzmq_tests(scratch)
    results = CACHE / "pyzmq-results.json"
    results.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        *(f"tests/{name}.py" for name in PYZMQ_FILES + PYZMQ_MORE_FILES),
        "-p",
        "yardstick_guard",
        "-p",
        "no:cacheprovider",
        "-m",
        "not large",
        f"--timeout={TEST_TIMEOUT_S}",
        "-q",
        "-rfEs",
        "--continue-on-collection-errors",
    ]
    if not reference:
        for test in read_list("pyzmq-deselected.txt"):
            command.append(f"--deselect={test}")
    print(f"yardstick: pyzmq 27.2.0's tests in {scratch}", flush=True)
    subprocess.run(command, cwd=scratch, env=environment(reference, results), check=False)
    if not results.exists():
        raise SystemExit("yardstick: pyzmq's test run ended without writing its outcomes")
    recorded = json.loads(results.read_text())
    return Outcomes(recorded["outcomes"], recorded["skip_reasons"])


def run_txzmq_suite(reference: bool) -> Outcomes:
    """Run ``trial txzmq`` (its tests ship in the wheel) and parse trial's tree report."""
    scratch = CACHE / "txzmq-run"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    print("yardstick: txZMQ 1.0.0's tests (trial txzmq)", flush=True)
    completed = subprocess.run(
        [sys.executable, str(HERE / "trial_guarded.py"), "txzmq"],
        cwd=scratch,
        env=environment(reference),
        capture_output=True,
        text=True,
        check=False,
    )
    print(completed.stdout, completed.stderr, sep="\n", flush=True)
    outcomes = Outcomes()
    scope: list[str] = []
    for line in completed.stdout.splitlines():
        match = TRIAL_LINE.match(line)
        if not match:
            if line.startswith("="):
                break
            continue
        depth = len(match["indent"]) // 2
        scope[depth:] = [match["name"]]
        if match["status"]:
            outcomes.by_test[".".join(scope)] = TRIAL_STATUS.get(match["status"], "failed")
    summary = re.search(r"^(PASSED|FAILED) \((.*)\)$", completed.stdout, re.MULTILINE)
    if summary is None or completed.returncode not in (0, 1):
        raise SystemExit(f"yardstick: trial ended with status {completed.returncode}, no summary")
    successes = re.search(r"successes=(\d+)", summary[2])
    if int(successes[1] if successes else 0) != outcomes.count("passed"):
        raise SystemExit("yardstick: trial's summary disagrees with its per-test report")
    return outcomes


def compare(
    name: str,
    outcomes: Outcomes,
    failing: dict[str, str],
    reference: dict[str, list[str] | int],
    deselected: dict[str, str],
) -> list[str]:
    """Return the disagreements between a zmtp run and its lists, and print the counts.

    Every test real pyzmq ran must have an outcome here unless it is deselected: a module that
    fails to import, or a run that dies half-way, leaves tests without one, and those count as
    not passing rather than vanishing from the count.
    """
    expected = set(reference["tests"]) - deselected.keys()  # type: ignore[arg-type]
    for test in expected - outcomes.by_test.keys():
        outcomes.by_test[test] = "not run"
    reference_skips = set(reference["skipped"])  # type: ignore[arg-type]
    skipped_as_reference = outcomes.ids("skipped") & reference_skips
    not_passing = set(outcomes.by_test) - outcomes.ids("passed") - skipped_as_reference
    problems = [
        f"{name}: {test} did not pass ({outcomes.by_test[test]}) and is not in its failing list"
        for test in sorted(not_passing - failing.keys())
    ]
    problems += [
        f"{name}: {test} is listed as failing but {outcomes.by_test.get(test, 'did not run')}"
        for test in sorted(failing.keys() - not_passing)
    ]
    for label, files in GROUPS[name].items():

        def among(tests: Iterable[str], files: list[str] | None = files) -> int:
            if files is None:
                return sum(1 for _ in tests)
            prefixes = tuple(f"tests/{file}.py::" for file in files)
            return sum(1 for test in tests if test.startswith(prefixes))

        reference_tests: list[str] = reference["tests"]  # type: ignore[assignment]
        reference_passed = set(reference_tests) - reference_skips
        reference_passed -= set(reference["not_passing"])  # type: ignore[arg-type]
        print(
            f"\n{label} on zmtp: {among(outcomes.ids('passed'))} passed, "
            f"{among(not_passing)} not passing (failed, errors, not run, or skipped where real "
            f"pyzmq runs them), {among(skipped_as_reference)} skipped as with real pyzmq, "
            f"{among(deselected)} deselected; real pyzmq on this machine: "
            f"{among(reference_passed)} passed, {among(reference_skips)} skipped"
        )
    return problems


def record(outcomes: dict[str, Outcomes]) -> None:
    """Write what real pyzmq did as ``reference.json``."""
    data = {
        name: {
            "passed_count": result.count("passed"),
            "tests": sorted(result.by_test),
            "not_passing": sorted(result.ids("failed", "error")),
            "skipped": sorted(result.ids("skipped")),
            "skip_reasons": result.skip_reasons,
        }
        for name, result in outcomes.items()
    }
    (HERE / "reference.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main() -> None:
    """Run both yardsticks (or one) and exit non-zero when an outcome disagrees with the lists."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["pyzmq", "txzmq"], help="run one of the two suites")
    parser.add_argument("--reference", action="store_true", help="measure real pyzmq instead")
    parser.add_argument(
        "--record", action="store_true", help="with --reference: write reference.json"
    )
    args = parser.parse_args()
    if not args.reference:
        check_no_pyzmq()
    suites = {"pyzmq": run_pyzmq_suite, "txzmq": run_txzmq_suite}
    outcomes = {
        name: run(args.reference) for name, run in suites.items() if args.only in (None, name)
    }
    if args.reference:
        for name, result in outcomes.items():
            print(
                f"{name} on real pyzmq: {result.count('passed')} passed, "
                f"{len(result.ids('failed', 'error'))} failed, {result.count('skipped')} skipped"
            )
        if args.record:
            record(outcomes)
        return
    reference = json.loads((HERE / "reference.json").read_text())
    deselected = {"pyzmq": read_list("pyzmq-deselected.txt"), "txzmq": {}}
    problems = [
        f"{name}: deselected {test} is not a test of the suite"
        for name, tests in deselected.items()
        for test in tests
        if test not in reference[name]["tests"]
    ]
    for name, result in outcomes.items():
        failing = read_list(f"{name}-failing.txt")
        problems += compare(name, result, failing, reference[name], deselected[name])
    if problems:
        print("\nyardstick: outcomes disagree with the lists:", *problems, sep="\n  ")
        raise SystemExit(1)
    print("\nyardstick: every outcome matches its list")


if __name__ == "__main__":
    main()
