"""A service that cannot reach its dependencies fails to start, clearly and within its connect timeout."""

import time

import pytest

from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from tests.integration.infra import free_port, running


async def test_an_unreachable_broker_fails_start_up_after_the_connect_timeout(namespace: str) -> None:
    dead = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    app = build_reporting(ReportingSettings(namespace=namespace, amqp_url=dead, connect_timeout_seconds=2))
    started = time.monotonic()
    with pytest.raises(Exception) as failure:
        async with running(app):
            pass
    assert 2 <= time.monotonic() - started < 15
    assert "connect" in repr(failure.value).lower() or "refused" in repr(failure.value).lower()
