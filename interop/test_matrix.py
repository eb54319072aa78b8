"""The interop matrix against libzmq in a separate process: one test per cell of matrix.TABLE.

Test ids name the cell: ``tcp-zmtp:REQ-binds-libzmq:ROUTER-NULL`` is a zmtp REQ bound on tcp
with three libzmq ROUTERs connected to it. A failure names the cell and prints what each side
sent and received. ``python -m interop.report`` runs this module and prints the table.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from matrix import TABLE, Cell, known_failure, run_cell
from peer_client import PeerProcess
from report import MARKDOWN, expected_outcome, render_matrix


@pytest.fixture(scope="module")
def peer() -> Iterator[PeerProcess]:
    """One libzmq peer process for the whole module: starting one costs about 0.1-0.3 s."""
    process = PeerProcess()
    try:
        yield process
    finally:
        process.close()


@pytest.fixture(scope="module")
def ipc_dir() -> Iterator[Path]:
    """A short directory for ipc paths (AF_UNIX paths are limited to about 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="zmtp-interop-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _param(cell: Cell) -> object:
    reason = known_failure(cell)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(cell, id=cell.id, marks=marks)


@pytest.mark.parametrize("cell", [_param(cell) for cell in TABLE])
def test_cell(cell: Cell, peer: PeerProcess, ipc_dir: Path) -> None:
    run_cell(cell, peer, ipc_dir)


def test_markdown_copy_matches_the_table(peer: PeerProcess) -> None:
    """MATRIX.md lists exactly the cells of TABLE, each with the outcome this run enforces
    (pass, or failure for a strict xfail), and the libzmq version the peer runs: if this and
    the cells pass, the Markdown copy shows what CI ran. Regenerate it with `make matrix`."""
    libzmq = f"{peer.libzmq_version} (bundled in pyzmq {peer.pyzmq_version})"
    expected = render_matrix(TABLE, {c.id: expected_outcome(c) for c in TABLE}, libzmq)
    assert MARKDOWN.exists(), "interop/MATRIX.md is missing: run `make matrix`"
    assert expected in MARKDOWN.read_text(encoding="utf-8"), (
        "interop/MATRIX.md does not match the table and expected outcomes; run `make matrix`"
    )
