"""Retry policies (tenacity) for transient faults of the broker and the database. Business errors never retry."""

from __future__ import annotations

import logging

from aio_pika.exceptions import AMQPConnectionError
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

TRANSIENT_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)
TRANSIENT_BROKER_ERRORS: tuple[type[BaseException], ...] = (AMQPConnectionError, ConnectionError, OSError, TimeoutError)


def connect_retrying(what: str, timeout_seconds: float) -> AsyncRetrying:
    """For start-up: keep trying to reach `what` until `timeout_seconds` have passed, then raise."""
    return AsyncRetrying(
        retry=retry_if_exception_type(TRANSIENT_BROKER_ERRORS + TRANSIENT_DATABASE_ERRORS),
        wait=wait_exponential_jitter(max=5),
        stop=stop_after_delay(timeout_seconds),
        before_sleep=before_sleep_log(log, logging.WARNING, exc_info=False),
        reraise=True,
    )


def database_retrying(attempts: int = 4) -> AsyncRetrying:
    """Around one unit of work: a few quick retries when the database connection blips."""
    return AsyncRetrying(
        retry=retry_if_exception_type(TRANSIENT_DATABASE_ERRORS),
        wait=wait_exponential_jitter(max=2),
        stop=stop_after_attempt(attempts),
        reraise=True,
    )
