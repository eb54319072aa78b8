"""Turning rounds into figures a reader can trust: medians, spreads, ratios, table, report, chart.

The median of the rounds is the figure (robust to one disturbed round); the spread is
(max - min) / median over the rounds, so a noisy figure says so next to its value; the ratio is
zmtp's median over pyzmq's, for every metric, so the gap is read directly.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.figures import LIBRARIES, LIBRARY_NAMES, Figure, Metric, Sample, Settings

REPO = Path(__file__).resolve().parent.parent


@dataclass
class FigureResult:
    """What the runner learned about one figure: rounds per library, or why there are none."""

    figure: Figure
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0

    def values(self, library: str, metric: Metric) -> list[float]:
        return [s.values[metric.key] for s in self.samples.get(library, [])]


@dataclass(frozen=True)
class Row:
    """One metric of one figure, summarised for both libraries."""

    figure: Figure
    metric: Metric
    median: dict[str, float]
    spread: dict[str, float]
    ratio: float | None
    note: str = ""

    @property
    def label(self) -> str:
        if self.metric.unit == "msg/s":
            return self.figure.title
        return f"{self.figure.title} {self.metric.label.removeprefix('latency ')}"


def summarize(results: Iterable[FigureResult]) -> list[Row]:
    """One row per metric per figure; failed and pending figures get a row with a note."""
    rows: list[Row] = []
    for result in results:
        note = result.error.splitlines()[0] if result.error else result.figure.pending
        for metric in result.figure.metrics:
            median: dict[str, float] = {}
            spread: dict[str, float] = {}
            for library in LIBRARIES:
                values = result.values(library, metric)
                if values:
                    median[library] = statistics.median(values)
                    middle = median[library]
                    spread[library] = (max(values) - min(values)) / middle if middle else 0.0
            ratio = None
            if len(median) == len(LIBRARIES) and median[LIBRARIES[1]]:
                ratio = median[LIBRARIES[0]] / median[LIBRARIES[1]]
            rows.append(Row(result.figure, metric, median, spread, ratio, note))
            if note:
                break  # one row is enough to say why a figure has no numbers
    return rows


def format_value(value: float | None, unit: str) -> str:
    """Three significant digits with k/M for rates: the spread makes more digits noise."""
    if value is None:
        return "—"
    if unit == "msg/s":
        for scale, suffix in ((1e6, "M"), (1e3, "k")):
            if value >= scale:
                return f"{value / scale:.3g}{suffix}"
        return f"{value:.3g}"
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


def format_spread(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def format_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}x"


def megabytes(row: Row, library: str) -> str:
    """Throughput in MB/s (10^6 bytes), where message size makes it the meaningful unit."""
    rate = row.median.get(library)
    if rate is None or row.metric.unit != "msg/s" or row.figure.kind != "throughput":
        return ""
    value = rate * row.figure.size / 1e6
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


HEADER = ("figure", "unit", "zmtp", "spread", "pyzmq", "spread", "zmtp/pyzmq", "MB/s zmtp/pyzmq")


def table_cells(row: Row) -> tuple[str, ...]:
    """The cells of one row, shared by the terminal table and the Markdown report."""
    zmtp, pyzmq = LIBRARIES
    if row.note and not row.median:
        return (row.label, row.metric.unit, row.note, "", "", "", "", "")
    mbs = f"{megabytes(row, zmtp)} / {megabytes(row, pyzmq)}" if megabytes(row, zmtp) else ""
    return (
        row.label,
        row.metric.unit,
        format_value(row.median.get(zmtp), row.metric.unit),
        format_spread(row.spread.get(zmtp)),
        format_value(row.median.get(pyzmq), row.metric.unit),
        format_spread(row.spread.get(pyzmq)),
        format_ratio(row.ratio),
        mbs,
    )


def text_table(rows: list[Row]) -> str:
    """A fixed-width table for the terminal; a figure without numbers shows its note instead."""
    cells = [table_cells(row) for row in rows]
    plain = [HEADER, *(line for line, row in zip(cells, rows, strict=True) if row.median)]
    widths = [max(len(line[i]) for line in plain) for i in range(len(HEADER))]
    widths[0] = max(len(line[0]) for line in [HEADER, *cells])
    lines = []
    for line, row in zip([HEADER, *cells], [None, *rows], strict=True):
        head = f"{line[0]:<{widths[0]}}  {line[1]:<{widths[1]}}"
        if row is not None and not row.median:
            lines.append(f"{head}  {line[2]}")
            continue
        tail = [f"{cell:>{width}}" for cell, width in zip(line[2:], widths[2:], strict=True)]
        lines.append("  ".join([head, *tail]).rstrip())
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * 2 + "---:|" * 6]
    lines += ["| " + " | ".join(table_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def rounds_table(results: list[FigureResult]) -> list[str]:
    """Each round's value, the count and the mean round duration, per library: the evidence
    behind a median and its spread, and what to pass to --count to repeat a figure."""
    names = [LIBRARY_NAMES[lib] for lib in LIBRARIES]
    lines = [
        "| figure | " + " | ".join(f"{n} rounds | {n} count | {n} s/round" for n in names) + " |",
        "|---|" + "---|---:|---:|" * len(names),
    ]
    for result in results:
        if not result.samples:
            continue
        metric = result.figure.metrics[0]
        cells = []
        for lib in LIBRARIES:
            samples = result.samples.get(lib, [])
            mean = statistics.fmean(s.elapsed for s in samples) if samples else 0.0
            values = " ".join(format_value(v, metric.unit) for v in result.values(lib, metric))
            cells += [values, str(result.counts.get(lib, "")), f"{mean:.2f}"]
        lines.append(f"| {result.figure.id} | " + " | ".join(cells) + " |")
    return lines


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


class CpuMeter:
    """How busy the machine was with *other* work while the benchmark ran.

    The load average cannot tell: it counts this run's own workers. The machine's busy CPU time
    (/proc/stat) minus this process's and its reaped workers' CPU time can.
    """

    def __init__(self) -> None:
        self.start = self.read()

    @staticmethod
    def read() -> tuple[float, float, float, float] | None:
        """(wall, machine busy s, machine steal s, own s), or None where /proc/stat is absent."""
        try:
            ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        hz = os.sysconf("SC_CLK_TCK")
        busy = (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / hz  # user nice sys irqs
        steal = ticks[7] / hz if len(ticks) > 7 else 0.0
        own = sum(
            usage.ru_utime + usage.ru_stime
            for usage in (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
        )
        return time.monotonic(), busy, steal, own

    def others(self) -> str:
        """Other processes' CPU use as a share of all CPUs since the meter started."""
        end = self.read()
        if self.start is None or end is None:
            return "n/a"
        wall, busy, steal, own = (b - a for a, b in zip(self.start, end, strict=True))
        capacity = wall * (os.cpu_count() or 1)
        if capacity <= 0:
            return "n/a"
        others = max(0.0, busy - own) / capacity
        return f"{others:.0%} of {os.cpu_count()} CPUs (hypervisor steal {steal / capacity:.0%})"


def git_revision() -> str:
    """The checkout's commit, marked dirty if it has local changes: figures belong to code."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def machine_info() -> dict[str, str]:
    """The details a reader needs to compare this run with another."""
    import zmtp  # noqa: PLC0415  (imported here so workers never import the runner's choice)

    info = {
        "CPU count": str(os.cpu_count()),
        "CPU": cpu_model(),
        "OS": platform.platform(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "zmtp": f"{zmtp.__version__}, commit {git_revision()}",
    }
    try:
        import zmq  # noqa: PLC0415

        info["pyzmq"] = zmq.pyzmq_version()
        info["libzmq"] = zmq.zmq_version()
    except ImportError:
        info["pyzmq"] = info["libzmq"] = "not installed"
    return info


def method_notes(settings: Settings) -> list[str]:
    counts = (
        f"a fixed count of {settings.fixed_count} messages per round"
        if settings.fixed_count
        else f"counts calibrated per library on warm-up rounds so a round takes "
        f"about {settings.target_s:g} s"
    )
    return [
        f"{settings.rounds} measured rounds per library after warm-up, alternating zmtp and "
        f"pyzmq round by round; {counts}.",
        "The same worker code runs both libraries (the module is a parameter); every worker is a "
        "fresh process (multiprocessing spawn). tcp and ipc put sender and receiver in separate "
        "processes; inproc runs the sender in a thread of the receiver's process.",
        "Throughput is timed on the receiving side from the first to the last message; "
        "PUB→SUB reports all deliveries (half of the published messages match each "
        "subscriber's filter) over the span from the first to the last delivery, HWM 0.",
        "Latency is the REQ↔REP round trip, median and p99 within a round, then the median "
        "over rounds.",
        "Each value is the median over rounds; spread is (max - min) / median over rounds.",
        "zmtp/pyzmq > 1 means zmtp is faster for throughput but *slower* for latency.",
        "Default options and calls (`send(bytes)`, `recv()`; copy=True) on both sides. "
        "Over inproc zmtp hands the very bytes object to the receiver while libzmq copies it "
        "in and out, so large inproc messages favour zmtp by design.",
        "Other load: CPU time used on the machine by processes other than this run, as a "
        "share of all CPUs over the run (Linux /proc/stat); above a few percent, re-run.",
    ]


def write_markdown(
    path: Path,
    results: list[FigureResult],
    *,
    machine: dict[str, str],
    settings: Settings,
    context: dict[str, str],
    chart: Path | None,
) -> None:
    """The report: machine, method, table, and what was not measured and why."""
    rows = summarize(results)
    lines = ["# zmtp vs pyzmq benchmark", ""]
    lines += [f"- {key}: {value}" for key, value in context.items()]
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    lines += ["", "## Method", ""]
    lines += [f"- {note}" for note in method_notes(settings)]
    lines += ["", "## Results", "", markdown_table(rows), ""]
    lines += ["## Rounds", "", *rounds_table(results), ""]
    problems = [r for r in results if r.error or r.figure.pending]
    if problems:
        lines += ["## Not measured", ""]
        for result in problems:
            why = result.error or result.figure.pending
            lines.append(f"- `{result.figure.id}`: {why.strip().splitlines()[0]}")
        lines.append("")
        details = [r for r in results if r.error]
        for result in details:
            lines += [f"<details><summary>{result.figure.id}</summary>", "", "```"]
            lines += [result.error.strip(), "```", "", "</details>", ""]
    if chart is not None:
        lines += ["## Ratios", "", f"![zmtp/pyzmq ratios]({chart.name})", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def draw_chart(path: Path, rows: list[Row]) -> bool:
    """A bar chart of the ratios (log scale); False, and no file, without matplotlib."""
    try:
        import matplotlib  # type: ignore[import-not-found]  # noqa: PLC0415

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:
        return False
    measured = [row for row in rows if row.ratio is not None]
    if not measured:
        return False
    labels = [f"{row.label} ({row.metric.unit})" for row in measured]
    ratios = [row.ratio or 0.0 for row in measured]
    colours = ["tab:blue" if row.metric.higher_is_better else "tab:orange" for row in measured]
    figure, axes = plt.subplots(figsize=(9, 0.3 * len(measured) + 1.5))
    positions = range(len(measured))
    axes.barh(positions, ratios, color=colours)
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xlabel("zmtp / pyzmq (blue: throughput, higher is better; orange: latency, lower)")
    axes.set_title(f"zmtp vs pyzmq, {time.strftime('%Y-%m-%d')}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def describe(result: FigureResult) -> str:
    """One progress line's worth of results."""
    if result.error:
        return "FAILED: " + result.error.splitlines()[0]
    if result.figure.pending:
        return ""
    parts = []
    for row in summarize([result]):
        values = ", ".join(
            f"{LIBRARY_NAMES[lib]} {format_value(row.median.get(lib), row.metric.unit)}"
            f" ±{format_spread(row.spread.get(lib))}"
            for lib in LIBRARIES
        )
        parts.append(f"{row.metric.label}: {values} {row.metric.unit} → {format_ratio(row.ratio)}")
    return "; ".join(parts)
