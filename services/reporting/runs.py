"""One report run of a kind at a time across replicas: the periodic job, the operator endpoints and a rebuild
take the same lease in the reporting database (`reporting-run:<kind>`) for the length of the run. A second
run meanwhile is refused with RunInProgress (HTTP 409; the job tries again at its next round).

The lease is short and renewed while the run lasts, so a replica that dies mid-run blocks the next one for
minutes, not for the rest of the day (reports must stay under 24 hours old).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo.client import Document
from shared.mongo.outbox import Lease

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)


class RunInProgress(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def exclusive(db: AsyncDatabase[Document], kind: str, instance_id: str,
                    duration: timedelta = LEASE) -> AsyncIterator[None]:
    # an owner per run: two runs in one process exclude each other too
    lease = Lease(db, f"reporting-run:{kind}", f"{instance_id}:{os.getpid()}:{uuid.uuid4().hex}", duration)
    if not await lease.acquire():
        raise RunInProgress(f"a {kind} run is in progress elsewhere (lease reporting-run:{kind}); try again later")
    keeper = asyncio.create_task(_keep(lease, duration / 3), name=f"reporting-run-{kind}-lease")
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        try:
            await lease.release()
        except Exception:
            log.warning("could not release the %s run lease; it lapses by itself", kind, exc_info=True)


async def _keep(lease: Lease, every: timedelta) -> None:
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            if not await lease.acquire():
                log.error("lost the %s lease mid-run: another run may start beside this one", lease.name)
        except Exception:
            log.warning("could not renew the %s lease; retried", lease.name, exc_info=True)
