import uuid
from collections.abc import AsyncIterator

import pytest

from tests.integration.infra import AMQP_URL, MONGODB_URL, delete_namespace, require_reachable


@pytest.fixture(scope="session", autouse=True)
def real_dependencies() -> None:
    require_reachable(AMQP_URL, 5672, "RabbitMQ", "run the tests with `make test`, which starts it")
    require_reachable(MONGODB_URL, 27017, "MongoDB", "run the tests with `make test`, which starts the stand-in")


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    """A fresh namespace per test: its own exchanges, queues and databases, removed afterwards."""
    ns = f"t{uuid.uuid4().hex[:10]}"
    yield ns
    await delete_namespace(ns)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
