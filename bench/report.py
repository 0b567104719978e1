"""What the benchmarks share: handing figures to the harness (bench/run_all.py), the machine they ran on, and
the one table that sets each platform figure beside the raw capacity of the same broker and store.

A benchmark script prints its own lines and calls `emit` with named figures; run alone it just prints. Under
the harness (BENCH_RESULTS names a file) the figures are also appended there as one JSON line, and the
harness prints the table from all of them.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

Figures = Mapping[str, float | None]


def emit(figures: Figures) -> None:
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(dict(figures)) + "\n")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def standin_pid() -> str:
    """The process id of the store this benchmark uses, where it is a local stand-in: the fresh one run_all.py
    started (BENCH_STANDIN_PID), else the long-lived one of deploy/local/ensure-mongodb.sh (.data/mongo.pid); ""
    when unknown (a real MongoDB, BENCH_MONGODB_URL)."""
    if "BENCH_STANDIN_PID" in os.environ:
        return os.environ["BENCH_STANDIN_PID"]
    pid_file = Path(__file__).resolve().parents[1] / ".data" / "mongo.pid"
    return pid_file.read_text().strip() if pid_file.exists() else ""


def cpu_seconds(pid: str) -> float:
    """User + system CPU time of a process, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine(standin: Path | None, rabbitmq_version: str | None) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    load = " ".join(_read("/proc/loadavg").split()[:3]) or "?"
    return [
        f"machine   {cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB, load {load} at the start",
        (f"software  Python {platform.python_version()}, RabbitMQ {rabbitmq_version or '?'}, "
         f"store {_standin_version(standin) if standin else os.environ.get('MONGODB_URL', '?')}"),
    ]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _standin_version(python: Path) -> str:
    try:
        out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('SecantusDB'))"],
                             capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = "?"
    return f"SecantusDB {out} (MongoDB-wire stand-in, fresh and in memory for each benchmark)"


@dataclass(frozen=True)
class Row:
    """One line of the table: a platform figure, the raw capacity it is set against, and the goal."""

    measure: str
    platform: str  # key of the platform figure
    unit: str
    raw: str | tuple[str, ...] | None = None  # key(s) of the raw capacity it is compared with: the first present
    goal: str = ""
    lower_is_better: bool = False


RAW_ROWS = [
    ("broker publish (persistent, confirms, quorum queue)", "raw.publish", "msg/s"),
    ("broker consume (manual ack)", "raw.consume", "msg/s"),
    ("broker publish+consume at once", "raw.publish_consume", "msg/s"),
    ("broker request/reply round trips, one at a time", "raw.rpc", "/s"),
    ("store insert_one, 1 client", "raw.insert.c1", "/s"),
    ("store insert_one, 8 clients", "raw.insert.c8", "/s"),
    ("store find_one by _id, 1 client", "raw.find.c1", "/s"),
    ("store find_one by _id, 8 clients", "raw.find.c8", "/s"),
    ("store update_one $inc, 1 client", "raw.update.c1", "/s"),
    ("store update_one $inc, 8 clients", "raw.update.c8", "/s"),
    ("create transaction (domain+outbox+debit), 1 client", "raw.create_tx.c1", "tx/s"),
    ("create transaction (domain+outbox+debit), 8 clients", "raw.create_tx.c8", "tx/s"),
]

PLATFORM_ROWS = [
    Row("domain create, command layer, c=1", "registry.create.c1", "/s", "raw.create_tx.c1"),
    Row("domain create, command layer, c=8", "registry.create.c8", "/s", "raw.create_tx.c8"),
    Row("EPP creates, 1 session", "epp.s1.creates", "/s", "raw.create_tx.c1"),
    Row("EPP creates, 10 sessions (in the 2:2:1 mix)", "epp.s10.creates", "/s", "raw.create_tx.c8"),
    Row("EPP creates, 10 sessions, creates only", "epp.s10.creates_only", "/s", "raw.create_tx.c8",
        "≥ 0.6 × raw (goal 3)"),
    Row("EPP creates, 50 sessions", "epp.s50.creates", "/s", "raw.create_tx.c8"),
    Row("EPP check p99, 10 sessions, creates running", "epp.s10.check_p99_ms", "ms", None, "< 20 ms (goal 4)", True),
    Row("EPP info p99, 10 sessions, creates running", "epp.s10.info_p99_ms", "ms", None, "< 20 ms (goal 4)", True),
    Row("EPP check p99, 50 sessions, creates running", "epp.s50.check_p99_ms", "ms", None, "< 50 ms (goal 4)", True),
    Row("EPP info p99, 50 sessions, creates running", "epp.s50.info_p99_ms", "ms", None, "< 50 ms (goal 4)", True),
    # against the raw rate its own script measured just before it (the closest in time), else the first one
    Row("events outbox → broker → consumer → store", "pipeline.events", "ev/s",
        ("pipeline.raw_publish_consume", "raw.publish_consume"),
        "≥ 0.5 × raw (goal 5)"),
    # the same events' store work alone, no broker (bench_event_pipeline.py: store): the store's bound on the pipeline
    Row("events outbox → broker → consumer → store, against its store work alone", "pipeline.events", "ev/s",
        "pipeline.store_alone"),
    Row("hitpoints command.failed counted", "hitpoints.failed", "ev/s", "raw.publish_consume", "≥ 2,000/s (goal 6)"),
    Row("hitpoints block latency p99", "hitpoints.block_p99_ms", "ms", None, "< 100 ms (goal 6)", True),
    Row("EPP poll req+ack pairs, 1 session", "poll.pairs", "pairs/s", "raw.rpc_pairs", "≥ 500/s (goal 7)"),
    # a pair's broker and store parts alone, one after the other (bench_notifications.py: rpc), before EPP and the
    # services' own work: the most one session could do here
    Row("EPP poll req+ack pairs, against their broker and store parts alone", "poll.pairs", "pairs/s",
        "poll.bound_pairs"),
    Row("EPP poll req+ack pair p50", "poll.pair_p50_ms", "ms", None, "< 5 ms (goal 7)", True),
    Row("notifications poll messages enqueued", "notifications.enqueued", "/s", "raw.publish_consume"),
    Row("notifications CPS mails over SMTP", "notifications.mails", "/s", "raw.publish_consume"),
    Row("verification registrations scored (consumer)", "verification.consumer", "/s", "raw.publish_consume"),
]


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def table(figures: Figures) -> list[str]:
    """The raw capacities, then each platform figure with its ratio to the raw capacity it is set against."""
    figures = dict(figures)
    if figures.get("raw.rpc"):  # a req+ack pair is two round trips
        figures["raw.rpc_pairs"] = figures["raw.rpc"] / 2  # type: ignore[operator]
    parts = [figures.get(k) for k in ("poll.store_find_ms", "poll.store_ack_ms", "poll.broker_rtt_ms")]
    if all(parts):  # the req's find, the ack's write and two broker round trips, one after the other
        find_ms, ack_ms, rtt_ms = (float(p) for p in parts)  # type: ignore[arg-type]
        figures["poll.bound_pairs"] = 1000 / (find_ms + ack_ms + 2 * rtt_ms)
    lines = ["| raw capacity (same run) | figure |", "|---|---:|"]
    lines += [f"| {label} | {_fmt(figures.get(key))} {unit} |" for label, key, unit in RAW_ROWS if key in figures]
    rows = [row for row in PLATFORM_ROWS if row.platform in figures]
    if rows:
        lines += ["", "| platform | figure | raw capacity | ratio | goal |", "|---|---:|---:|---:|---|"]
    for row in rows:
        value = figures.get(row.platform)
        if row.platform not in figures:
            continue
        keys = (row.raw,) if isinstance(row.raw, str) else row.raw or ()
        raw_key = next((k for k in keys if figures.get(k)), None)
        raw = figures.get(raw_key) if raw_key else None
        ratio = f"{value / raw:.2f}" if value is not None and raw else "–"
        raw_text = f"{_fmt(raw)} ({raw_key})" if raw_key else "–"
        lines.append(f"| {row.measure} | {_fmt(value)} {row.unit} | {raw_text} | {ratio} | {row.goal} |")
    known = {r.platform for r in PLATFORM_ROWS} | {k for _, k, _ in RAW_ROWS} | {"raw.rpc_pairs", "poll.bound_pairs"}
    others = sorted(k for k in figures if k not in known)
    if others:
        lines += ["", "| other figure | value |", "|---|---:|"]
        lines += [f"| {k} | {_fmt(figures[k])} |" for k in others]
    return lines
