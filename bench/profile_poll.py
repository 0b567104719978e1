"""Where one EPP poll req+ack pair spends its time: MongoDB round trips per pair (a pymongo CommandListener, by
command and collection, as in profile_domain_create.py), broker messages per pair, and the time of each stage
(the client's pair, the EPP server's wait for the broker's reply, the notifications service's work; per req and
per ack, the p50 of each stage: the client with TLS, the EPP server's own work, the broker both ways with the
responder, the service with the store), and what
bounds a pair on this machine: the store's part alone and a bare broker request/reply
(bench_notifications.store_part, bench/raw.py rpc_rate). Prints figures; asserts nothing.

Run: .venv/bin/python bench/profile_poll.py   (PROFILE_PAIRS sets how many pairs are averaged)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_notifications import epp_session_with_messages, store_part
from bench.raw import rpc_rate
from bench.report import cpu_seconds, percentile, standin_pid
from services.notifications.service import Notifications
from services.registry.epp.dispatch import Dispatcher
from shared.poll_rpc import PollClient
from tests.integration.epp_client import EppClient
from tests.integration.infra import delete_namespace

N = int(os.environ.get("PROFILE_PAIRS", "200"))
# the stand-in's process id: its CPU time is shown
STANDIN_PID = os.environ.get("PROFILE_STANDIN_PID") or standin_pid()


class RoundTrips(monitoring.CommandListener):
    """Counts commands sent while `on` (background loops run too: their commands show under their names)."""

    def __init__(self) -> None:
        self.on, self.seen, self.micros = False, Counter[str](), Counter[str]()
        self.names: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on:
            return
        target = event.command.get(event.command_name)
        where = target if isinstance(target, str) else ""
        name = self.names[event.request_id] = f"{event.command_name} {where}".strip()
        self.seen[name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        name = self.names.pop(event.request_id, None)
        if name is not None:
            self.micros[name] += event.duration_micros

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def timed(owner: Any, name: str, into: list[float]) -> None:
    """Wrap owner.name (a coroutine function) so that each call's duration is appended to `into`."""
    original: Callable[..., Awaitable[Any]] = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - began)

    setattr(owner, name, wrapper)


async def main() -> None:
    listener = RoundTrips()
    monitoring.register(listener)
    namespace = f"p{uuid.uuid4().hex[:10]}"
    asks: list[float] = []
    served: list[float] = []
    handled: list[float] = []
    commands: list[float] = []
    timed(PollClient, "ask", asks)
    timed(Notifications, "poll", served)
    timed(Dispatcher, "handle", handled)
    timed(EppClient, "command", commands)
    try:
        async with epp_session_with_messages(namespace, N + 10) as client:
            for _ in range(5):  # warm up: the reply consumer, connections
                req = await client.command('<poll op="req"/>')
                await client.command(f'<poll op="ack" msgID="{req.find("epp:response/epp:msgQ").get("id")}"/>')  # type: ignore[union-attr]
            for values in (asks, served, handled, commands):
                values.clear()
            pairs: list[float] = []
            listener.seen.clear()
            listener.on = True
            print("pairs start (attach py-spy now)", flush=True)
            started, cpu, standin_cpu = time.perf_counter(), time.process_time(), cpu_seconds(STANDIN_PID)
            for _ in range(N):
                began = time.perf_counter()
                req = await client.command('<poll op="req"/>')
                msgq = req.find("epp:response/epp:msgQ")
                assert req.code == 1301 and msgq is not None, req.xml
                ack = await client.command(f'<poll op="ack" msgID="{msgq.get("id")}"/>')
                assert ack.code == 1000, ack.xml
                pairs.append(time.perf_counter() - began)
            elapsed = time.perf_counter() - started
            cpu, standin_cpu = time.process_time() - cpu, cpu_seconds(STANDIN_PID) - standin_cpu
            listener.on = False
    finally:
        await delete_namespace(namespace)
    find_ms, ack_ms = await store_part()
    rtt_ms = 1000 / await rpc_rate(500)
    print(f"{N} pairs from one EPP session: {N / elapsed:.1f} pairs/s, pair p50 {percentile(pairs, 0.5) * 1000:.1f} ms;"
          f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  CPU per pair: {cpu / N * 1000:.2f} ms in this process (client, EPP server, notifications),"
          f" {standin_cpu / N * 1000:.2f} ms in the stand-in" + ("" if STANDIN_PID else " (pid unknown)"))
    ms = [("the EPP server waits for the broker reply (PollClient.ask)", asks),
          ("the notifications service works (Notifications.poll)", served)]
    print(f"  broker request/replies per pair: {len(asks) / N:.2f} (each: a publish to the poll queue, a delivery to"
          " notifications, its reply to the long-lived direct reply-to consumer)")
    for label, values in ms:
        per_pair = sum(values) / N * 1000
        print(f"  {per_pair:6.2f} ms per pair  {label} (p50 per call {percentile(values, 0.5) * 1000:.2f} ms)")
    # one EPP session, one command at a time: the i-th entry of each list is the i-th command (req, ack, req, ...;
    # the logout follows them); a stage is the time of one call less that of the call inside it
    commands, handled, asks, served = commands[:2 * N], handled[:2 * N], asks[:2 * N], served[:2 * N]
    if len(commands) == len(handled) == len(asks) == len(served) == 2 * N:
        stages = [("client, TLS and XML both ways", commands, handled), ("EPP server's own work", handled, asks),
                  ("broker both ways and the responder", asks, served), ("the service and the store", served, None)]
        for op, first in (("req", 0), ("ack", 1)):
            parts = []
            for label, outer, inner in stages:
                own = [o - i for o, i in zip(outer, inner or [0.0] * len(outer), strict=True)][first::2]
                parts.append(f"{percentile(own, 0.5) * 1000:.2f} {label}")
            print(f"  {op} p50 by stage (ms): " + ", ".join(parts))
    print(f"MongoDB round trips per pair (every client in this process): {sum(listener.seen.values()) / N:.2f}")
    for name, count in sorted(listener.seen.items(), key=lambda kv: -kv[1]):
        print(f"  {count / N:5.2f}  {name:28} {listener.micros[name] / max(count, 1) / 1000:6.2f} ms each (sent to answered)")
    print(f"What bounds a pair, each alone (p50): the req's find of the head {find_ms:.2f} ms, the ack's write"
          f" {ack_ms:.2f} ms, a bare broker request/reply {rtt_ms:.2f} ms (x 2): {find_ms + ack_ms + 2 * rtt_ms:.2f} ms"
          f" a pair, at most {1000 / (find_ms + ack_ms + 2 * rtt_ms):.0f} pairs/s before EPP and the services' own work")


if __name__ == "__main__":
    asyncio.run(main())
