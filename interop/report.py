"""Run the interop matrix and scenarios, print the result table, and write interop/MATRIX.md.

    python -m interop.report        # or: python interop/report.py, or: make matrix

It runs the same pytest modules as ``make test`` and CI (test_matrix.py, test_scenarios.py),
in a pytest subprocess, and reads the outcome of every test from pytest's JUnit XML, so the
table shows what pytest decided rather than a second implementation of the checks. The
libzmq version comes from the peer program itself. test_matrix.py checks that MATRIX.md
still lists exactly the cells of the table, with the outcomes CI enforces, and the libzmq
version installed, so the Markdown copy cannot drift from what CI ran.

Exit status: 0 when every test had its expected outcome, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as ``-m interop.report``: import siblings as pytest does
    sys.path.insert(0, str(HERE))

from matrix import BINDERS, CHECKS, PAIRS, TABLE, TRANSPORTS, Cell, known_failure  # noqa: E402
from peer_client import PeerProcess  # noqa: E402

import zmtp  # noqa: E402

MARKDOWN = HERE / "MATRIX.md"
MODULES = ("interop/test_matrix.py", "interop/test_scenarios.py")
MARKS = {
    "passed": "✓",
    "failed": "✗",
    "xfailed": "✗ known",
    "xpassed": "✓ unexpectedly",
    "skipped": "-",
    "missing": "?",
}
Outcome = tuple[str, str]
"""``(outcome, message)``: passed, failed, xfailed, xpassed or skipped, and the reason."""


# -- running ----------------------------------------------------------------------------------


def run_pytest(extra: list[str]) -> tuple[dict[str, Outcome], int, float]:
    """Run the interop modules; return ``{test name: outcome}``, pytest's status, seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", *MODULES, "-q", "-p", "no:cacheprovider"]
        command += [f"--junitxml={junit}", "-o", "junit_family=xunit2", *extra]
        # The check that MATRIX.md is current would judge the file this run is replacing.
        command += ["--deselect", "interop/test_matrix.py::test_markdown_copy_matches_the_table"]
        started = time.monotonic()
        status = subprocess.call(command, cwd=HERE.parent)
        elapsed = time.monotonic() - started
        if not junit.exists():
            sys.exit(f"pytest wrote no results (exit status {status})")
        return parse_junit(junit), status, elapsed


def parse_junit(path: Path) -> dict[str, Outcome]:
    """Outcome of each test case, by its pytest name (``test_cell[tcp-zmtp:...]``)."""
    results: dict[str, Outcome] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        outcome: Outcome = ("passed", "")
        for child in case:
            message = (child.get("message") or "").strip()
            if child.tag in ("failure", "error"):
                kind = "xpassed" if "XPASS(strict)" in message else "failed"
                outcome = (kind, reason(message))
            elif child.tag == "skipped":
                kind = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
                outcome = (kind, message)
        results[name] = outcome
    return results


def reason(message: str) -> str:
    """The first line of a failure message, without the exception's module path."""
    first = message.splitlines()[0] if message else ""
    for prefix in ("matrix.CellFailed: ", "sides.CheckFailed: ", "AssertionError: "):
        first = first.removeprefix(prefix)
    return first[:300]


def versions() -> dict[str, str]:
    """The versions that matter, the libzmq one asked of the peer program itself."""
    peer = PeerProcess()
    try:
        return {
            "libzmq": peer.libzmq_version,
            "pyzmq": peer.pyzmq_version,
            "zmtp": zmtp.__version__,
            "python": platform.python_version(),
            "platform": f"{platform.system()} {platform.machine()}",
        }
    finally:
        peer.close()


# -- rendering --------------------------------------------------------------------------------


def expected_outcome(cell: Cell) -> str:
    """What CI requires of a cell: a pass, or (strict xfail) a failure."""
    return "xfailed" if known_failure(cell) else "passed"


def columns() -> list[tuple[str, str]]:
    return [(transport, binder) for transport in TRANSPORTS for binder in BINDERS]


def rows(cells: Iterable[Cell]) -> list[str]:
    seen: list[str] = []
    for cell in cells:
        if cell.row not in seen:
            seen.append(cell.row)
    return seen


def table(headers: list[str], body: list[list[str]]) -> str:
    """A Markdown table padded to line up in a terminal too."""
    widths = [max(len(r[i]) for r in [headers, *body]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in body)])


def render_matrix(cells: list[Cell], outcome: dict[str, str], libzmq: str) -> str:
    """The matrix section: one table per mechanism, rows = pairs, columns = transport x binder.

    Deterministic (no dates, no timings), so test_matrix.py can compare it with MATRIX.md.
    """
    parts = [f"libzmq versions tested: {libzmq}", ""]
    mechanisms = list(dict.fromkeys(cell.mechanism for cell in cells))
    for mechanism in mechanisms:
        mine = [cell for cell in cells if cell.mechanism == mechanism]
        by_key = {(c.row, c.transport, c.binder): c for c in mine}
        headers = ["zmtp socket - libzmq socket", *(f"{t}, {b} binds" for t, b in columns())]
        body = []
        for row in rows(mine):
            marks = []
            for transport, binder in columns():
                cell = by_key.get((row, transport, binder))
                marks.append(MARKS[outcome.get(cell.id, "missing")] if cell else "")
            body.append([row, *marks])
        parts += [f"### Mechanism {mechanism}", "", table(headers, body), ""]
    return "\n".join(parts)


def what_is_checked() -> str:
    lines = []
    for pair in PAIRS:
        doc = (CHECKS[pair].__doc__ or "").strip().splitlines()[0]
        lines.append(f"- **{pair[0]}-{pair[1]}**: {doc}")
    return "\n".join(lines)


def render(
    results: dict[str, Outcome], info: dict[str, str], elapsed: float, command: str
) -> tuple[str, list[str]]:
    """The whole report as Markdown, and the list of tests without their expected outcome."""
    cell_outcomes = {c.id: results.get(f"test_cell[{c.id}]", ("missing", ""))[0] for c in TABLE}
    libzmq = f"{info['libzmq']} (bundled in pyzmq {info['pyzmq']})"
    scenarios = {n: r for n, r in results.items() if not n.startswith("test_cell[")}
    unexpected = [f"test_cell[{c.id}]" for c in TABLE if cell_outcomes[c.id] != expected_outcome(c)]
    unexpected += [n for n, (o, _) in scenarios.items() if o not in ("passed", "xfailed")]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cells_passed = sum(1 for o in cell_outcomes.values() if o == "passed")
    out = [
        "# zmtp against libzmq: the interop matrix",
        "",
        f"Written by `{command}` on {when}, in {elapsed:.0f} s; do not edit by hand. "
        "The same tests run in `make test` and CI (`interop/test_matrix.py`, "
        "`interop/test_scenarios.py`).",
        "",
        f"zmtp {info['zmtp']} in the test process; libzmq in a separate process "
        f"(`interop/peer.py`, driven over a JSON-lines control channel); Python "
        f"{info['python']}, {info['platform']}. Debian's libzmq 4.3.4 is not part of this run.",
        "",
        f"{cells_passed} of {len(TABLE)} cells passed; "
        f"{sum(1 for o, _ in scenarios.values() if o == 'passed')} of {len(scenarios)} "
        "scenarios passed. ✓ passed, ✗ failed, ✗ known = a known zmtp bug "
        "(strict xfail), ? = not run.",
        "",
        "## Socket-type pairs",
        "",
        "A cell is one zmtp socket against three libzmq sockets (one for PAIR); the row names "
        "zmtp's end first. Every cell also carries a multipart message with empty and "
        "255/256-byte frames and a 16 MiB message.",
        "",
        render_matrix(TABLE, cell_outcomes, libzmq),
        "What each pair's check asserts:",
        "",
        what_is_checked(),
        "",
        "## Scenarios",
        "",
        table(
            ["scenario", "result"],
            [[f"`{n}`", MARKS[o]] for n, (o, _) in sorted(scenarios.items())],
        ),
        "",
    ]
    failures = [
        (n, m)
        for n, (o, m) in sorted(results.items())
        if o in ("failed", "xfailed", "xpassed") and m
    ]
    if failures:
        out += ["## Failures and known failures", ""]
        out += [f"- `{n}`: {m}" for n, m in failures]
        out.append("")
    return "\n".join(out), unexpected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args(argv)
    info = versions()
    results, status, elapsed = run_pytest(args.pytest_args)
    command = "make matrix" if os.environ.get("MAKELEVEL") else "python -m interop.report"
    markdown, unexpected = render(results, info, elapsed, command)
    print()
    print(markdown)
    if not args.no_write:
        MARKDOWN.write_text(markdown, encoding="utf-8")
        print(f"written to {MARKDOWN.relative_to(HERE.parent)}")
    if unexpected or status not in (0, 1):
        print(f"not as expected: {', '.join(unexpected) or f'pytest exit status {status}'}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
