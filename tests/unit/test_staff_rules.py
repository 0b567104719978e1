"""The staff rules that need no database: the role a token carries, what the audit trail keeps of a request
and an object, and the audit page's before/after comparison."""

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from services.console.staff.audit import changes
from shared.audit import redacted, snapshot
from shared.auth import SessionClaims, SessionTokens, SigningKeys, new_signing_key
from shared.staff import STAFF_REGISTRAR, StaffRole, role_permission, staff_role

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TOKENS = SessionTokens(SigningKeys([SecretStr(new_signing_key())]))


async def claims_of(registrar_id: str, permissions: set[str]) -> SessionClaims:
    token = TOKENS.issue(user_id="alice", registrar_id=registrar_id, permissions=permissions, session_id="s",
                         expires_at=NOW + timedelta(hours=1))
    return await TOKENS.verify(token, NOW)


async def test_the_staff_role_travels_as_a_permission_of_a_token_without_registrar() -> None:
    assert staff_role(await claims_of(STAFF_REGISTRAR, {role_permission(StaffRole.SUPPORT)})) is StaffRole.SUPPORT
    assert staff_role(await claims_of(STAFF_REGISTRAR, {"staff:operator"})) is StaffRole.OPERATOR
    # a registrar's user is never staff, even with a permission named like a role
    assert staff_role(await claims_of("a100001", {"staff:operator", "MY_REGISTRATIONS"})) is None
    assert staff_role(await claims_of(STAFF_REGISTRAR, {"MY_REGISTRATIONS"})) is None


def test_the_trail_never_keeps_secrets() -> None:
    request = {"staff_id": "carol", "password": "Secret-Pass-2026", "nested": {"totp_secret": "ABC", "code": "123456"},
               "items": [{"security_code": "1234"}, {"note": "kept"}]}
    assert redacted(request) == {"staff_id": "carol", "password": "***", "nested": {"totp_secret": "***", "code": "***"},
                                 "items": [{"security_code": "***"}, {"note": "kept"}]}
    assert snapshot({"_id": "a1", "password_hash": "$argon2id$...", "status": "ACTIVE"}) == \
        {"_id": "a1", "password_hash": "***", "status": "ACTIVE"}
    assert snapshot(None) is None


def test_the_audit_page_shows_what_changed() -> None:
    before = {"_id": "a1", "status": "ACTIVE", "lock_function": True}
    after = {"_id": "a1", "status": "ACTIVE", "lock_function": False}
    assert changes(before, after) == [("lock_function", "true", "false")]
    assert changes(None, {"status": "OPEN"}) == [("status", "", '"OPEN"')]
    assert changes(before, before) == []
