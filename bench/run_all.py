"""make bench: every benchmark on a fresh, throw-away MongoDB stand-in, then one table of all their figures.

Each script (bench/raw.py first: the raw capacities) runs as its own process against a stand-in started for
it alone on a free port with its storage in memory, so no figure depends on what earlier runs left in a
store. The scripts' own output goes to .data/bench/<script>.log; their figures (bench/report.py `emit`) come
back through a file and make the table. With BENCH_MONGODB_URL set, that server is used instead of stand-ins
(a real MongoDB replica set: pass it without retryWrites=false).

Run: make bench   or   make bench ARGS="bench/bench_hitpoints.py"   (the raw capacities always run first)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.raw import rabbitmq_version  # noqa: E402 (after the path)
from bench.report import machine, table  # noqa: E402

STANDIN = ROOT / ".tools" / "secantus" / "bin"
STANDIN_FIX = ROOT / "deploy" / "local" / "standin" / "secantusd_ordered_limit.py"
LOGS = ROOT / ".data" / "bench"
DEFAULT = ["bench/bench_registry_commands.py", "bench/bench_epp.py", "bench/bench_event_pipeline.py",
           "bench/bench_hitpoints.py", "bench/bench_notifications.py", "bench/bench_verification.py",
           "bench/bench_reporting.py"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def standin(log: Path) -> Iterator[tuple[str, str]]:
    """A fresh stand-in with in-memory storage; yields its URL and process id (for the scripts that show its CPU
    time) and stops it (and its data) afterwards."""
    given = os.environ.get("BENCH_MONGODB_URL")
    if given:
        yield given, ""
        return
    port = free_port()
    with open(log, "a", encoding="utf-8") as out:
        # the stand-in with the project's fix, as deploy/local/ensure-mongodb.sh starts it
        process = subprocess.Popen([str(STANDIN / "python"), str(STANDIN_FIX), "--host", "127.0.0.1", "--port", str(port),
                                    "--storage-path", ":memory:", "--log-level", "WARNING"],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stand-in did not start on port {port}; see {log}")
            time.sleep(0.1)
        # retryWrites=false: the stand-in slows down tenfold with retryable writes (shared reference)
        yield f"mongodb://127.0.0.1:{port}/?retryWrites=false", str(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(script: str, results: Path) -> tuple[bool, float]:
    log = LOGS / (Path(script).stem + ".log")
    log.write_text("", encoding="utf-8")
    started = time.perf_counter()
    with standin(log) as (url, pid):
        env = os.environ | {"MONGODB_URL": url, "BENCH_RESULTS": str(results), "BENCH_STANDIN_PID": pid}
        with open(log, "a", encoding="utf-8") as out:
            done = subprocess.run([sys.executable, script], check=False, cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    return done.returncode == 0, time.perf_counter() - started


def main(argv: list[str]) -> int:
    scripts = ["bench/raw.py"] + [s for s in (argv or DEFAULT) if s != "bench/raw.py"]
    LOGS.mkdir(parents=True, exist_ok=True)
    header = machine(None if os.environ.get("BENCH_MONGODB_URL") else STANDIN / "python",
                     asyncio.run(rabbitmq_version()))
    failed: list[str] = []
    figures: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "figures.jsonl"
        results.touch()
        for script in scripts:
            print(f"[bench] {script} ...", end=" ", flush=True, file=sys.stderr)
            ok, seconds = run(script, results)
            print(f"{'done' if ok else 'FAILED'} in {seconds:.0f} s (log: {LOGS / (Path(script).stem + '.log')})",
                  file=sys.stderr)
            if not ok:
                failed.append(script)
        for line in results.read_text(encoding="utf-8").splitlines():
            figures.update(json.loads(line))
    print("\n".join(header))
    print()
    print("\n".join(table(figures)))
    if failed:
        print(f"\nFAILED (no or partial figures; see their logs): {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
