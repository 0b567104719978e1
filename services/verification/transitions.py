"""The verification state machines, pure: which transitions exist, and nothing else.

A registrant contact:   UNVERIFIED -> PENDING -> VERIFIED | FAILED;  VERIFIED -> UNVERIFIED on an update;
                        FAILED -> PENDING when a new registration selects it again (seed: "any other new
                        domain registered with the same contact handle will also be selected").
A case (one selection of a contact, the proof it gets):
  OPEN --start eID--> EID_STARTED --eID ok--> APPROVED
                                  --eID failed, or abandoned (no callback in time)--> OPEN, or SUPPORT
                                    once the attempts are used up
                                  --individual over its cap--> SUPPORT (support may raise the cap)
  OPEN | EID_STARTED | MORE_INFO --upload--> IN_REVIEW --approve--> APPROVED
                                                       --reject--> FAILED
                                                       --ask for more--> MORE_INFO, or SUPPORT when used up
  SUPPORT --approve / reject / ask for more (one more upload) / raise cap--> ...
  any open state --registrar verified it / contact deleted--> APPROVED / CANCELLED; awaiting the
  registrant past the deadline --expire--> FAILED.

Anything not in the tables is refused (TransitionRefused): the anchors' users report swapped and stuck
transitions, so none is implicit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ContactStatus(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"


class ContactAction(StrEnum):
    SELECT = "select"                     # a registration was selected (or reselected after a failure)
    INHERIT = "inherit"                   # transfer: old registrant pending, new one unverified
    APPROVE = "approve"                   # the case was approved
    REGISTRAR_VERIFY = "registrar_verify"  # the registrar verifies its contacts itself
    FAIL = "fail"
    UNDO = "undo"                         # a verified contact was updated


CONTACT_TRANSITIONS: dict[tuple[ContactStatus, ContactAction], ContactStatus] = {
    (ContactStatus.UNVERIFIED, ContactAction.SELECT): ContactStatus.PENDING,
    (ContactStatus.FAILED, ContactAction.SELECT): ContactStatus.PENDING,
    (ContactStatus.UNVERIFIED, ContactAction.INHERIT): ContactStatus.PENDING,
    (ContactStatus.PENDING, ContactAction.APPROVE): ContactStatus.VERIFIED,
    (ContactStatus.UNVERIFIED, ContactAction.REGISTRAR_VERIFY): ContactStatus.VERIFIED,
    (ContactStatus.PENDING, ContactAction.REGISTRAR_VERIFY): ContactStatus.VERIFIED,
    (ContactStatus.FAILED, ContactAction.REGISTRAR_VERIFY): ContactStatus.VERIFIED,
    (ContactStatus.PENDING, ContactAction.FAIL): ContactStatus.FAILED,
    (ContactStatus.VERIFIED, ContactAction.UNDO): ContactStatus.UNVERIFIED,
}


class CaseStatus(StrEnum):
    OPEN = "OPEN"                  # waiting for the registrant's proof
    EID_STARTED = "EID_STARTED"    # sent to the eID provider, waiting for its callback
    IN_REVIEW = "IN_REVIEW"        # documents in the support review queue
    MORE_INFO = "MORE_INFO"        # support asked for more documents
    SUPPORT = "SUPPORT"            # attempts used up or the individual's cap reached: support decides
    APPROVED = "APPROVED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def closed(self) -> bool:
        return self in (CaseStatus.APPROVED, CaseStatus.FAILED, CaseStatus.CANCELLED)


class CaseAction(StrEnum):
    START_EID = "start_eid"
    EID_OK = "eid_ok"
    EID_FAILED = "eid_failed"
    EID_ABANDONED = "eid_abandoned"  # no callback within EID_TIMEOUT_MINUTES: the registrant gave up
    CAP_REACHED = "cap_reached"
    UPLOAD = "upload"
    APPROVE = "approve"
    REJECT = "reject"
    ASK_MORE = "ask_more"
    RAISE_CAP = "raise_cap"
    REGISTRAR_VERIFIED = "registrar_verified"
    EXPIRE = "expire"
    CANCEL = "cancel"


# the states a registrant acts in, and those support acts in
AWAITING_REGISTRANT = (CaseStatus.OPEN, CaseStatus.EID_STARTED, CaseStatus.MORE_INFO)
OPEN_STATES = (*AWAITING_REGISTRANT, CaseStatus.IN_REVIEW, CaseStatus.SUPPORT)

# (state, action) -> next state; an attempt that fails goes to SUPPORT instead when none is left (next_case)
CASE_TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (CaseStatus.OPEN, CaseAction.START_EID): CaseStatus.EID_STARTED,
    (CaseStatus.MORE_INFO, CaseAction.START_EID): CaseStatus.EID_STARTED,
    (CaseStatus.EID_STARTED, CaseAction.START_EID): CaseStatus.EID_STARTED,  # abandoned and started again
    (CaseStatus.EID_STARTED, CaseAction.EID_OK): CaseStatus.APPROVED,
    (CaseStatus.EID_STARTED, CaseAction.EID_FAILED): CaseStatus.OPEN,
    (CaseStatus.EID_STARTED, CaseAction.EID_ABANDONED): CaseStatus.OPEN,
    (CaseStatus.EID_STARTED, CaseAction.CAP_REACHED): CaseStatus.SUPPORT,
    (CaseStatus.OPEN, CaseAction.UPLOAD): CaseStatus.IN_REVIEW,
    (CaseStatus.EID_STARTED, CaseAction.UPLOAD): CaseStatus.IN_REVIEW,
    (CaseStatus.MORE_INFO, CaseAction.UPLOAD): CaseStatus.IN_REVIEW,
    (CaseStatus.IN_REVIEW, CaseAction.APPROVE): CaseStatus.APPROVED,
    (CaseStatus.SUPPORT, CaseAction.APPROVE): CaseStatus.APPROVED,
    (CaseStatus.IN_REVIEW, CaseAction.REJECT): CaseStatus.FAILED,
    (CaseStatus.SUPPORT, CaseAction.REJECT): CaseStatus.FAILED,
    (CaseStatus.IN_REVIEW, CaseAction.ASK_MORE): CaseStatus.MORE_INFO,
    (CaseStatus.SUPPORT, CaseAction.ASK_MORE): CaseStatus.MORE_INFO,  # support grants one more upload
    (CaseStatus.SUPPORT, CaseAction.RAISE_CAP): CaseStatus.APPROVED,
    **{(s, CaseAction.REGISTRAR_VERIFIED): CaseStatus.APPROVED for s in OPEN_STATES},
    **{(s, CaseAction.EXPIRE): CaseStatus.FAILED for s in AWAITING_REGISTRANT},
    **{(s, CaseAction.CANCEL): CaseStatus.CANCELLED for s in OPEN_STATES},
}

# the actions that use one of the registrant's attempts, and those that end one without success: the last
# attempt ended either way sends the registrant to support (an abandoned one too, or it would wait forever)
ATTEMPTS = (CaseAction.START_EID, CaseAction.UPLOAD)
FAILED_ATTEMPTS = (CaseAction.EID_FAILED, CaseAction.EID_ABANDONED, CaseAction.ASK_MORE)


class TransitionRefused(ValueError):
    """`refusal` says which refusal it is, for a page to put in the registrant's language: `contact_support` (the
    case waits for support), `attempts_used_up` (params: allowed), or `not_now` (the state does not allow it)."""

    def __init__(self, kind: str, state: str, action: str, why: str | None = None, refusal: str = "not_now",
                 **params: Any) -> None:
        super().__init__(why or f"a {kind} in {state} cannot {action}")
        self.state, self.action = state, action
        self.refusal, self.params = refusal, params


def next_contact(status: ContactStatus, action: ContactAction) -> ContactStatus:
    try:
        return CONTACT_TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionRefused("contact", status.value, action.value) from None


@dataclass(frozen=True)
class CaseStep:
    status: CaseStatus
    attempts: int          # attempts used after the step
    allowed: int           # attempts allowed after the step (support's "ask for more" grants one)
    exhausted: bool        # this step used up the last attempt (the registrant is sent to support)


def next_case(status: CaseStatus, action: CaseAction, attempts: int, allowed: int) -> CaseStep:
    """The case after `action`, counting the registrant's attempts (at most `allowed`)."""
    target = CASE_TRANSITIONS.get((status, action))
    if target is None and status is CaseStatus.SUPPORT and action in ATTEMPTS:
        raise TransitionRefused("case", status.value, action.value, "please contact support to finish the verification",
                                "contact_support")
    if target is None:
        raise TransitionRefused("case", status.value, action.value)
    if action in ATTEMPTS:
        if attempts >= allowed:
            raise TransitionRefused("case", status.value, action.value,
                                    f"the {allowed} attempts are used up: please contact support", "attempts_used_up",
                                    allowed=allowed)
        attempts += 1
    if status is CaseStatus.SUPPORT and action is CaseAction.ASK_MORE:
        return CaseStep(target, attempts, max(allowed, attempts + 1), False)
    if action in FAILED_ATTEMPTS and attempts >= allowed:
        return CaseStep(CaseStatus.SUPPORT, attempts, allowed, True)
    return CaseStep(target, attempts, allowed, False)
