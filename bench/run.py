"""Run the zmtp-versus-pyzmq benchmarks: ``python -m bench.run [--quick] [--only PATTERNS]``.

For each figure the runner starts a zmtp session and a pyzmq session (worker processes with
connected sockets), calibrates each on warm-up rounds, then alternates measured rounds between
them (zmtp, pyzmq, zmtp, pyzmq, ...) so that a change in the machine's load hits both alike.
It prints a table, writes a Markdown report and, with matplotlib, a chart of the ratios.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

if __name__ == "__main__" and not __package__:
    # `python bench/run.py`: make the checkout importable so `bench.*` resolves as under -m.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import (
    LIBRARIES,
    Figure,
    Session,
    Settings,
    catalogue,
    make_session,
)
from bench.harness import BenchError
from bench.report import (
    CpuMeter,
    FigureResult,
    describe,
    draw_chart,
    load_average,
    machine_info,
    summarize,
    text_table,
    write_markdown,
)

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "RESULTS.md"
QUICK = Settings(rounds=2, target_s=0.1, probe_s=0.03)
FULL = Settings()
MAX_PROBES = 12  # calibration rounds at most: the count grows at least 2x per probe


def calibrate(session: Session, figure: Figure, settings: Settings) -> int:
    """Find the count that makes a round last about ``target_s`` for this library.

    The first round is the warm-up; the count then grows until a round takes at least
    ``probe_s``, long enough for its rate to extrapolate to the target.
    """
    if settings.fixed_count:
        session.measure(settings.fixed_count)  # warm-up only
        return settings.fixed_count
    count = figure.initial_count
    sample = session.measure(count)
    for _ in range(MAX_PROBES):
        if sample.elapsed >= settings.probe_s or count >= settings.max_count:
            break
        growth = 1.5 * settings.probe_s / max(sample.elapsed, 1e-6)
        count = min(settings.max_count, int(count * min(16.0, max(2.0, growth))))
        sample = session.measure(count)
    per_second = count / max(sample.elapsed, 1e-6)
    return max(4, min(settings.max_count, int(per_second * settings.target_s)))


class Progress:
    """One line per figure on stderr, written as the figure advances."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.started = time.monotonic()

    def write(self, text: str, end: str = "") -> None:
        self.stream.write(text + end)
        self.stream.flush()

    def begin(self, index: int, figure: Figure) -> None:
        width = len(str(self.total))
        self.write(f"[{index:>{width}}/{self.total}] {figure.id}: ")

    def finish(self, result: FigureResult) -> None:
        done = time.monotonic() - self.started
        self.write(f" {describe(result)}  ({result.seconds:.1f} s, total {done:.0f} s)", "\n")


def measure_figure(
    figure: Figure, settings: Settings, tmpdir: Path, progress: Progress
) -> FigureResult:
    """Measure one figure for both libraries; a failure becomes the result's error."""
    result = FigureResult(figure)
    if figure.pending:
        progress.write(f"skipped: {figure.pending}")
        return result
    started = time.monotonic()
    sessions = {lib: make_session(figure, lib, settings, tmpdir) for lib in LIBRARIES}
    try:
        for session in sessions.values():
            session.start()
        for session in sessions.values():
            session.connect()
        progress.write("calibrating")
        for lib, session in sessions.items():
            result.counts[lib] = calibrate(session, figure, settings)
            result.samples[lib] = []
        progress.write(", rounds")
        for round_number in range(1, settings.rounds + 1):
            for lib in LIBRARIES:  # A B A B ...: both libraries see the same drift in load
                result.samples[lib].append(sessions[lib].measure(result.counts[lib]))
            progress.write(f" {round_number}")
    except BenchError as exc:
        result.error = str(exc)
    finally:
        for session in sessions.values():
            session.close()
        result.seconds = time.monotonic() - started
    return result


def select(figures: list[Figure], only: str) -> list[Figure]:
    """Figures whose id matches one of the comma-separated glob patterns (all if empty)."""
    if not only:
        return figures
    patterns = [p.strip() for p in only.split(",") if p.strip()]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatch(f.id, p) for f in figures)]
    if unmatched:
        raise SystemExit(f"--only: no figure matches {', '.join(unmatched)} (see --list)")
    return [f for f in figures if any(fnmatch.fnmatch(f.id, p) for p in patterns)]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark zmtp against pyzmq, side by side, and report the ratios.",
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run (~1 minute)")
    parser.add_argument(
        "--only", default="", help="comma-separated glob patterns of figure ids, e.g. 'thr-tcp-*'"
    )
    parser.add_argument("--list", action="store_true", help="list the figure ids and exit")
    parser.add_argument("--rounds", type=int, help="measured rounds per library (default 5)")
    parser.add_argument("--target", type=float, help="seconds per measured round (default 0.5)")
    parser.add_argument("--count", type=int, default=0, help="fixed message count, no calibration")
    parser.add_argument(
        "--timeout", type=float, help="seconds without progress that count as a stall (20)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown report path")
    parser.add_argument("--chart", type=Path, help="PNG path (default: the report's, .png)")
    parser.add_argument("--no-chart", action="store_true", help="do not draw the chart")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    base = QUICK if args.quick else FULL
    return Settings(
        rounds=args.rounds or base.rounds,
        target_s=args.target or base.target_s,
        probe_s=min(base.probe_s, args.target or base.probe_s),
        stall_s=args.timeout or base.stall_s,
        fixed_count=args.count,
        max_count=base.max_count,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    figures = catalogue()
    if args.list:
        for figure in figures:
            note = f"  (pending: {figure.pending})" if figure.pending else ""
            print(f"{figure.id:<24} {figure.title}{note}")
        return 0
    figures = select(figures, args.only)
    settings = settings_from(args)
    machine = machine_info()
    load_before = load_average()
    meter = CpuMeter()
    started = time.time()
    progress = Progress(len(figures))
    progress.write(
        f"{len(figures)} figures, {settings.rounds} rounds each, zmtp and pyzmq alternating; "
        f"load average {load_before}",
        "\n",
    )
    results: list[FigureResult] = []
    with tempfile.TemporaryDirectory(prefix="zmtp-bench-") as tmp:
        for index, figure in enumerate(figures, 1):
            progress.begin(index, figure)
            result = measure_figure(figure, settings, Path(tmp), progress)
            results.append(result)
            progress.finish(result)
    wall = time.time() - started
    rows = summarize(results)
    print(text_table(rows))
    chart = None
    if not args.no_chart:
        chart = args.chart or args.output.with_suffix(".png")
        if not draw_chart(chart, rows):
            progress.write("chart: skipped (matplotlib is not installed)", "\n")
            chart = None
    context = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(started)),
        "command": " ".join(["python -m bench.run", *(argv or sys.argv[1:])]),
        "duration": f"{wall:.0f} s",
        "load average (1, 5, 15 min) before / after": f"{load_before} / {load_average()}",
        "other load during the run": meter.others(),
    }
    write_markdown(
        args.output,
        results,
        machine=machine,
        settings=settings,
        context=context,
        chart=chart,
    )
    progress.write(f"other load during the run: {context['other load during the run']}", "\n")
    progress.write(f"report: {args.output}" + (f", chart: {chart}" if chart else ""), "\n")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
