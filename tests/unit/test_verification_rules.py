"""The verification service's pure rules: the state machines refuse every transition not in their tables,
attempts are counted, scoring selects only when several rules flag a registration, uploads are bounded."""

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.verification.eid import InvalidCallback, SimulatedEid, provider_for
from services.verification.scoring import Registrant, Registration, ScoringRules, score
from services.verification.settings import DEFAULT_WEIGHTS, VerificationSettings
from services.verification.transitions import (
    CASE_TRANSITIONS,
    CONTACT_TRANSITIONS,
    CaseAction,
    CaseStatus,
    ContactAction,
    ContactStatus,
    TransitionRefused,
    next_case,
    next_contact,
)
from services.verification.uploads import BadUpload, read_uploads

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


# -- the contact's status ---------------------------------------------------------------------------------------

def test_the_contact_lifecycle_in_order() -> None:
    s = next_contact(ContactStatus.UNVERIFIED, ContactAction.SELECT)
    assert s is ContactStatus.PENDING
    assert next_contact(s, ContactAction.APPROVE) is ContactStatus.VERIFIED
    assert next_contact(ContactStatus.VERIFIED, ContactAction.UNDO) is ContactStatus.UNVERIFIED
    assert next_contact(ContactStatus.PENDING, ContactAction.FAIL) is ContactStatus.FAILED
    assert next_contact(ContactStatus.FAILED, ContactAction.SELECT) is ContactStatus.PENDING


@pytest.mark.parametrize(("status", "action"), [
    (ContactStatus.UNVERIFIED, ContactAction.APPROVE),   # approved without ever being selected
    (ContactStatus.VERIFIED, ContactAction.SELECT),      # a verified handle is never selected again
    (ContactStatus.VERIFIED, ContactAction.FAIL),
    (ContactStatus.FAILED, ContactAction.APPROVE),       # a failed case cannot be approved afterwards
    (ContactStatus.PENDING, ContactAction.SELECT),       # selected twice
    (ContactStatus.PENDING, ContactAction.UNDO),         # only a verified contact reverts on update
    (ContactStatus.UNVERIFIED, ContactAction.UNDO),
    (ContactStatus.PENDING, ContactAction.INHERIT),
])
def test_out_of_order_contact_transitions_are_refused(status: ContactStatus, action: ContactAction) -> None:
    with pytest.raises(TransitionRefused):
        next_contact(status, action)


def test_every_pair_not_in_the_contact_table_is_refused() -> None:
    for status in ContactStatus:
        for action in ContactAction:
            if (status, action) in CONTACT_TRANSITIONS:
                continue
            with pytest.raises(TransitionRefused):
                next_contact(status, action)


# -- the case ---------------------------------------------------------------------------------------------------

def test_eid_path_counts_an_attempt_and_approves() -> None:
    step = next_case(CaseStatus.OPEN, CaseAction.START_EID, 0, 3)
    assert (step.status, step.attempts) == (CaseStatus.EID_STARTED, 1)
    assert next_case(step.status, CaseAction.EID_OK, step.attempts, 3).status is CaseStatus.APPROVED


def test_three_failed_attempts_send_the_registrant_to_support() -> None:
    status, attempts = CaseStatus.OPEN, 0
    for i in range(3):
        step = next_case(status, CaseAction.START_EID, attempts, 3)
        step = next_case(step.status, CaseAction.EID_FAILED, step.attempts, 3)
        status, attempts = step.status, step.attempts
        assert step.exhausted is (i == 2)
    assert (status, attempts) == (CaseStatus.SUPPORT, 3)
    with pytest.raises(TransitionRefused, match="contact support"):
        next_case(status, CaseAction.UPLOAD, attempts, 3)
    # support grants one more upload
    step = next_case(status, CaseAction.ASK_MORE, attempts, 3)
    assert (step.status, step.allowed) == (CaseStatus.MORE_INFO, 4)
    step = next_case(step.status, CaseAction.UPLOAD, step.attempts, step.allowed)
    assert (step.status, step.attempts) == (CaseStatus.IN_REVIEW, 4)


def test_an_abandoned_last_eid_attempt_sends_the_registrant_to_support() -> None:
    """Three eID starts without a callback: the last attempt, abandoned, ends like a failed one."""
    status, attempts = CaseStatus.OPEN, 0
    for _ in range(3):
        step = next_case(status, CaseAction.START_EID, attempts, 3)
        status, attempts = step.status, step.attempts
    assert (status, attempts) == (CaseStatus.EID_STARTED, 3)
    with pytest.raises(TransitionRefused, match="contact support"):
        next_case(status, CaseAction.START_EID, attempts, 3)
    step = next_case(status, CaseAction.EID_ABANDONED, attempts, 3)
    assert (step.status, step.attempts, step.exhausted) == (CaseStatus.SUPPORT, 3, True)
    # as after three failed attempts, support may grant one more upload
    more = next_case(step.status, CaseAction.ASK_MORE, step.attempts, step.allowed)
    assert more.status is CaseStatus.MORE_INFO


def test_an_abandoned_eid_attempt_with_attempts_left_counts_as_failed() -> None:
    step = next_case(CaseStatus.EID_STARTED, CaseAction.EID_ABANDONED, 1, 3)
    assert (step.status, step.attempts, step.exhausted) == (CaseStatus.OPEN, 1, False)
    with pytest.raises(TransitionRefused):
        next_case(CaseStatus.OPEN, CaseAction.EID_ABANDONED, 1, 3)  # only an attempt in progress is abandoned


def test_a_fourth_attempt_is_refused_even_from_an_open_case() -> None:
    with pytest.raises(TransitionRefused):
        next_case(CaseStatus.OPEN, CaseAction.START_EID, 3, 3)


@pytest.mark.parametrize(("status", "action"), [
    (CaseStatus.OPEN, CaseAction.APPROVE),         # support cannot approve what it has not received
    (CaseStatus.OPEN, CaseAction.EID_OK),          # a callback without a started eID
    (CaseStatus.IN_REVIEW, CaseAction.EID_OK),
    (CaseStatus.IN_REVIEW, CaseAction.UPLOAD),     # twice in review
    (CaseStatus.APPROVED, CaseAction.REJECT),      # a closed case stays closed
    (CaseStatus.FAILED, CaseAction.APPROVE),
    (CaseStatus.APPROVED, CaseAction.START_EID),
    (CaseStatus.IN_REVIEW, CaseAction.EXPIRE),     # support has it: the deadline does not apply
    (CaseStatus.OPEN, CaseAction.RAISE_CAP),
    (CaseStatus.CANCELLED, CaseAction.CANCEL),
])
def test_out_of_order_case_transitions_are_refused(status: CaseStatus, action: CaseAction) -> None:
    with pytest.raises(TransitionRefused):
        next_case(status, action, 0, 3)


def test_every_pair_not_in_the_case_table_is_refused_and_closed_states_have_no_exit() -> None:
    for status in CaseStatus:
        for action in CaseAction:
            if (status, action) in CASE_TRANSITIONS:
                assert not status.closed
                continue
            with pytest.raises(TransitionRefused):
                next_case(status, action, 0, 3)


# -- scoring ----------------------------------------------------------------------------------------------------

def registrant(**changes: object) -> Registrant:
    values: dict = {"alias": "c1", "name": "Veerle Peeters", "organisation": None, "street": ("Kerkstraat 12",),
                    "city": "Leuven", "postal_code": "3000", "country": "BE", "phone": "+32.16123456",
                    "email": "veerle@example.be", "created_at": NOW - timedelta(days=200)}
    return Registrant(**(values | changes))


RULES = ScoringRules(weights=DEFAULT_WEIGHTS, threshold=2, disposable_email_domains=frozenset({"mailinator.com"}),
                     new_contact_window=timedelta(hours=48), burst_registrations=5)


def test_plausible_data_is_not_selected() -> None:
    result = score(Registration("fine.be", registrant(), NOW, 0), RULES)
    assert result.flagged == () and not result.selected


def test_one_rule_alone_does_not_select() -> None:
    result = score(Registration("x.be", registrant(phone="+33.612345678"), NOW, 0), RULES)
    assert result.flagged == ("country_phone_mismatch",) and not result.selected


def test_several_rules_select() -> None:
    r = registrant(phone="+7.9161234567", email="x@sub.mailinator.com", street=("asdf",), postal_code="99")
    result = score(Registration("x.be", r, NOW, 0), RULES)
    assert set(result.flagged) == {"country_phone_mismatch", "disposable_email", "implausible_address"}
    assert result.selected and result.total == 3


def test_a_burst_from_a_new_contact_counts_but_not_from_an_old_one() -> None:
    young = registrant(created_at=NOW - timedelta(hours=2), phone="+31.201234567")
    assert score(Registration("x.be", young, NOW, 4), RULES).selected
    assert not score(Registration("x.be", young, NOW, 3), RULES).selected
    old = registrant(phone="+31.201234567")
    assert not score(Registration("x.be", old, NOW, 40), RULES).selected


def test_weights_and_threshold_are_settings() -> None:
    rules = ScoringRules(weights={**DEFAULT_WEIGHTS, "country_phone_mismatch": 0}, threshold=1)
    assert not score(Registration("x.be", registrant(phone="+33.612345678"), NOW, 0), rules).selected
    with pytest.raises(ValueError, match="unknown rules"):
        VerificationSettings(rule_weights={"no_such_rule": 1})


# -- uploads and the eID simulator ------------------------------------------------------------------------------

PDF = b"%PDF-1.4 fake identity card"
PNG = b"\x89PNG\r\n\x1a\n-bytes"
EXE = b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode"


async def chunks(body: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i:i + size]


def multipart_of(filename: str, content_type: str, data: bytes, boundary: str = "XyZ") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()


def json_of(filename: str, content_type: str, data: bytes) -> bytes:
    return json.dumps({"documents": [{"filename": filename, "content_type": content_type,
                                      "content_base64": base64.b64encode(data).decode()}]}).encode()


async def test_json_and_multipart_uploads_are_read_as_they_stream_in() -> None:
    [u] = await read_uploads("application/json", chunks(json_of("id.pdf", "application/pdf", PDF)), 1000, 5)
    assert (u.filename, u.data) == ("id.pdf", PDF)
    [u] = await read_uploads("multipart/form-data; boundary=XyZ", chunks(multipart_of("id.png", "image/png", PNG)),
                             1000, 5)
    assert (u.filename, u.content_type, u.data) == ("id.png", "image/png", PNG)
    assert "bytes" not in repr(u) and "size=" in repr(u)  # never the content in logs


@pytest.mark.parametrize(("content_type", "body", "status"), [
    ("application/json", b'{"documents": []}', 422),
    ("application/json", b"not json", 422),
    ("application/json", json_of("a.exe", "application/x-msdownload", EXE), 415),
    ("application/json", json_of("big.pdf", "application/pdf", b"%PDF-" + b"x" * 2000), 413),
    # the declared type does not decide: the first bytes must be the declared format's
    ("application/json", json_of("a.exe", "application/pdf", EXE), 415),
    ("application/json", json_of("id.pdf", "image/png", PDF), 415),
    ("multipart/form-data; boundary=XyZ", multipart_of("a.exe", "application/pdf", EXE), 415),
    ("multipart/form-data; boundary=XyZ", multipart_of("big.png", "image/png", PNG + b"x" * 2000), 413),
    ("multipart/form-data", multipart_of("id.png", "image/png", PNG), 422),
    ("text/plain", b"hello", 415),
])
async def test_bad_uploads_are_refused_with_a_reason(content_type: str, body: bytes, status: int) -> None:
    with pytest.raises(BadUpload) as caught:
        await read_uploads(content_type, chunks(body), 1000, 5)
    assert caught.value.status == status and str(caught.value)


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=XyZ"])
async def test_an_oversized_upload_is_refused_before_the_rest_of_it_is_read(content_type: str) -> None:
    """A 256 MB body is refused after about the limit, not read into memory first."""
    sent = 0
    start = multipart_of("big.pdf", "application/pdf", b"%PDF-")[:-len("\r\n--XyZ--\r\n")] \
        if content_type.startswith("multipart") else b'{"documents": [{"content_base64": "'

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield start
        for _ in range(256):
            sent += 1
            yield b"A" * 1_000_000

    with pytest.raises(BadUpload) as caught:
        await read_uploads(content_type, body(), 2_000_000, 5)
    assert caught.value.status == 413
    assert sent <= 14  # the JSON limit: 5 documents of 2 MB in base64 (13.4 MB); multipart stops at 2 MB
    if content_type.startswith("multipart"):
        assert sent <= 3


async def test_a_declared_length_over_the_limit_is_refused_without_reading() -> None:
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("read")
        yield b""

    with pytest.raises(BadUpload) as caught:
        await read_uploads("application/json", never(), 1000, 5, content_length=256_000_000)
    assert caught.value.status == 413


def test_the_simulated_eid_callback_must_be_signed() -> None:
    from pydantic import SecretStr

    eid = SimulatedEid(SecretStr("s"), "http://v")
    url = eid.callback_url("http://v/verify/eid/callback", "st", "success", "BE-1")
    params = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    assert eid.read_callback(params).ok
    with pytest.raises(InvalidCallback):
        eid.read_callback(params | {"subject": "BE-2"})
    with pytest.raises(InvalidCallback):
        SimulatedEid(SecretStr("other"), "http://v").read_callback(params)


def test_the_eid_provider_is_chosen_explicitly_and_none_by_default() -> None:
    assert VerificationSettings().eid_provider == "" and provider_for(VerificationSettings()) is None
    assert isinstance(provider_for(VerificationSettings(eid_provider="simulator")), SimulatedEid)
    with pytest.raises(ValueError):
        VerificationSettings(eid_provider="itsme")  # no such adapter: refused at start-up, not ignored
