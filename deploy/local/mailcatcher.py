"""The local SMTP catcher of `make run`: accepts every mail on 127.0.0.1 (SMTP_PORT, default 1025) and writes
each to .data/mail/<time>-<n>.eml, so the notifications service's mail can be read without a mail server.

    .venv/bin/python deploy/local/mailcatcher.py [--port 1025] [--dir .data/mail]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
import time
from pathlib import Path

# this folder holds platform.py, which would shadow the standard library's platform module aiosmtpd needs
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402 (after the sys.path fix above)

ROOT = Path(__file__).resolve().parents[2]


class ToFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self.counter):06d}.eml"
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        (self.directory / name).write_bytes(content)
        print(f"mail {name}: {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 2.0.0 Message accepted for delivery"


async def main(port: int, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    handler = ToFiles(directory)
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(handler, hostname="mailcatcher.local"),
                                                            "127.0.0.1", port)
    print(f"SMTP catcher on 127.0.0.1:{port}, mail in {directory}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=ROOT / ".data" / "mail")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.dir))
