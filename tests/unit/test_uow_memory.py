"""The unit-of-work contract on the in-memory implementation the command pages' unit tests use."""

from __future__ import annotations

import pytest

from services.registry.store import unique_keys
from services.registry.uow import UnitOfWork
from services.registry.uow.memory import InMemoryUnitOfWork
from tests.unit.uow_contract import UnitOfWorkContract


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(unique_keys())

    async def published(self, uow: UnitOfWork) -> list[str]:
        assert isinstance(uow, InMemoryUnitOfWork)
        return [str(e.event_id) for e in uow.published]
