"""The deny-list of revoked sessions that every service keeps, fed by `session.revoked`.

An access token stays valid until it expires; when its session ends early (logout, password change, user
deleted) the registry publishes `session.revoked`, and each service writes the session ids here (in the
consumer's transaction, so exactly once). `shared.auth.SessionAuth` refuses a token whose session is listed.
An entry expires with the last access token it could refuse, so the list stays small. Kept in the service's
database rather than in memory: replicas compete for the service's queue, and each must refuse the token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import EventEnvelope
from shared.events.sessions import SessionRevoked
from shared.mongo.client import Document
from shared.mongo.indexes import CollectionIndexes

REVOKED_SESSIONS = "revoked_sessions"
REVOCATION_INDEXES = (CollectionIndexes(REVOKED_SESSIONS, (IndexModel("expires_at", expireAfterSeconds=0),)),)


class RevokedSessions:
    def __init__(self, db: Callable[[], AsyncDatabase[Document]]) -> None:
        self._db = db  # the database exists once the service started; routers are built before

    async def is_revoked(self, session_id: str) -> bool:
        return await self._db()[REVOKED_SESSIONS].find_one({"_id": session_id}, {"_id": 1}) is not None

    async def apply(self, event: EventEnvelope[Any], session: AsyncClientSession) -> None:
        revoked: SessionRevoked = event.payload
        for session_id in revoked.session_ids:
            await self._db()[REVOKED_SESSIONS].update_one(
                {"_id": session_id},
                {"$set": {"user_id": revoked.user_id, "reason": revoked.reason.value, "expires_at": revoked.expires_at}},
                upsert=True, session=session,
            )
