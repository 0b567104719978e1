import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.integration.infra import AMQP_URL, MONGODB_URL, delete_namespace, require_reachable
from tests.integration.knot import knot_server


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


@pytest.fixture(scope="module")
def knot_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Knot DNS server of the test module's own (tests/integration/knot.py), on a free port."""
    with knot_server(tmp_path_factory.mktemp("knot")) as port:
        yield port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
