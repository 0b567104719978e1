"""The verification application: keeps the contacts' read model, scores new registrations, runs the cases.

The rules are pure (scoring.py, transitions.py); this module reads and writes MongoDB around them. Every
change and the events it publishes commit together (the consumer's transaction, or one of its own for an
HTTP action), and every status change is a compare-and-set on the status read, so two concurrent actions
on one case cannot both apply: the loser is refused (ChangedMeanwhile) instead of skipping a step.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.verification.eid import EidProvider, EidResult, provider_for
from services.verification.metrics import VerificationMetrics
from services.verification.scoring import Registrant, Registration, ScoringRules, score
from services.verification.settings import VerificationSettings
from services.verification.store import (
    CASES,
    CONTACTS,
    DOCUMENTS,
    INDIVIDUALS,
    NOTICES,
    REGISTRARS,
    REGISTRATIONS,
    WAITING,
)
from services.verification.transitions import (
    AWAITING_REGISTRANT,
    OPEN_STATES,
    CaseAction,
    CaseStatus,
    ContactAction,
    ContactStatus,
    TransitionRefused,
    next_case,
    next_contact,
)
from services.verification.uploads import Upload
from shared.events import EventEnvelope, new_event
from shared.events.contacts import ContactCreated, ContactDeleted, ContactUpdated
from shared.events.domains import DomainCreated, DomainTransferred
from shared.events.verification import (
    VERIFICATION_LINK_SEAL,
    VerificationApproved,
    VerificationFailed,
    VerificationLinkResent,
    VerificationRequired,
    VerificationSupportNotice,
    VerificationUndone,
)
from shared.mongo.client import Document
from shared.mongo.transactions import in_transaction
from shared.runtime import ServiceContext
from shared.sealing import Sealer

log = logging.getLogger(__name__)
REGISTRANT = "REGISTRANT"
EID_UNAVAILABLE = "electronic identification is not available: please upload your identity documents"
CONTACT_FIELDS = ("name", "organisation", "street", "city", "postal_code", "province", "country", "phone", "fax",
                  "email", "language", "vat")


class NotFound(Exception):
    """No such case, contact or token (for a registrant: nothing says why)."""


class ChangedMeanwhile(Exception):
    """The case or contact changed under a concurrent action; nothing was applied."""


class Refused(Exception):
    """`refusal` names it for a page that says it in the reader's language (the API answers both)."""

    def __init__(self, message: str, refusal: str = "refused") -> None:
        super().__init__(message)
        self.message, self.refusal = message, refusal


@dataclass
class Outcome:
    """What an HTTP action leads to, for its reply."""

    case: Document
    redirect_url: str | None = None
    message: str | None = None


@dataclass
class _Run:
    """What a run of registrations is decided on, read once; kept current as the run goes."""

    contacts: dict[str, Document]
    verifies: set[str]               # registrars with "verification at registrar" on
    recent: dict[str, list[datetime]]  # registration times per contact, for the burst rule
    records: list[Document]

    def record(self, domain: str, contact: Document, at: datetime, result: Any, selected: bool) -> None:
        self.recent.setdefault(contact["_id"], []).append(at)
        self.records.append({"_id": f"{domain}@{at.isoformat()}", "domain": domain, "contact": contact["_id"],
                             "registrar_id": contact.get("registrar_id"), "at": at, "selected": selected,
                             "total": result.total if result else None,
                             "flagged": list(result.flagged) if result else []})


def _registrant(doc: Document) -> Registrant:
    return Registrant(alias=doc["_id"], name=doc.get("name") or "", organisation=doc.get("organisation"),
                      street=tuple(doc.get("street") or ()), city=doc.get("city") or "",
                      postal_code=doc.get("postal_code") or "", country=doc.get("country") or "",
                      phone=doc.get("phone") or "", email=doc.get("email") or "", created_at=doc["created_at"])


class Verification:
    def __init__(self, ctx: ServiceContext, eid: EidProvider | None = None) -> None:
        self.ctx = ctx
        s: VerificationSettings = ctx.settings  # type: ignore[assignment]
        self.settings = s
        self.metrics = VerificationMetrics(ctx.metrics.registry)
        self.rules = ScoringRules(weights=s.rule_weights, threshold=s.selection_threshold,
                                  disposable_email_domains=frozenset(d.lower() for d in s.disposable_email_domains),
                                  new_contact_window=timedelta(hours=s.new_contact_hours),
                                  burst_registrations=s.burst_registrations)
        self.burst_window = timedelta(hours=s.burst_window_hours)
        self.links = Sealer(s.sealing_secrets, VERIFICATION_LINK_SEAL)
        self.tokens = Sealer(s.sealing_secrets, "verification-token")
        self.subjects = Sealer(s.sealing_secrets, "verification-individual")
        self.eid: EidProvider | None = eid or provider_for(s)

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.ctx.db

    def _event(self, payload: Any, registrar_id: str | None, correlation_id: str | None) -> EventEnvelope[Any]:
        return new_event(payload, registrar_id=registrar_id, correlation_id=correlation_id, clock=self.ctx.clock)

    async def _publish(self, events: list[EventEnvelope[Any]], session: AsyncClientSession) -> None:
        await self.ctx.outbox.add(events, session)

    # -- the contacts' read model -----------------------------------------------------------------------------

    async def verifies_itself(self, registrar_id: str | None, session: AsyncClientSession | None = None) -> bool:
        doc = await self.db[REGISTRARS].find_one({"_id": registrar_id}, session=session) if registrar_id else None
        return bool(doc and doc.get("verifies_itself"))

    async def _upsert_contact(self, event: EventEnvelope[ContactCreated] | EventEnvelope[ContactUpdated],
                              session: AsyncClientSession) -> dict[str, Any]:
        """The registrant's data as the event has it; a contact first seen in an update starts UNVERIFIED."""
        p = event.payload
        data = {k: getattr(p, k) for k in CONTACT_FIELDS}
        await self.db[CONTACTS].update_one(
            {"_id": p.alias},
            {"$set": data | {"registrar_id": event.registrar_id},
             "$setOnInsert": {"created_at": event.occurred_at, "status": ContactStatus.UNVERIFIED.value}},
            upsert=True, session=session)
        contact = await self.db[CONTACTS].find_one({"_id": p.alias}, session=session)
        assert contact is not None
        return contact

    async def _score_waiting(self, alias: str, session: AsyncClientSession) -> None:
        """Registrations that arrived before their contact are scored now that it is known, in their order."""
        waiting = await self.db[WAITING].find({"contact": alias}, session=session).sort("at", 1).to_list()
        if not waiting:
            return
        run = await self._load_run({alias}, {w.get("registrar_id") for w in waiting}, waiting[0]["at"], session)
        for w in waiting:
            self.metrics.waiting.inc()
            await self._registered(run, w["kind"], w["domain"], w["contact"], w.get("registrar_id"), w["at"],
                                   w.get("old_pending", False), w.get("correlation_id"), session)
        await self._flush(run, session)
        await self.db[WAITING].delete_many({"_id": {"$in": [w["_id"] for w in waiting]}}, session=session)

    async def on_contact_created(self, event: EventEnvelope[ContactCreated], session: AsyncClientSession) -> None:
        if event.payload.type != REGISTRANT:
            return
        contact = await self._upsert_contact(event, session)
        if contact["status"] != ContactStatus.VERIFIED.value and await self.verifies_itself(event.registrar_id, session):
            # the registrar verified it before creating it: verified at creation
            await self._registrar_verified(contact, event.correlation_id, session)
        await self._score_waiting(contact["_id"], session)

    async def on_contact_updated(self, event: EventEnvelope[ContactUpdated], session: AsyncClientSession) -> None:
        p = event.payload
        if p.type != REGISTRANT:
            return
        contact = await self._upsert_contact(event, session)
        # a contact the service first learns of by an update (its create was lost to it) releases its waiting
        # registrations too, after the update's own rules
        await self._contact_updated(event, contact, session)
        await self._score_waiting(p.alias, session)

    async def _contact_updated(self, event: EventEnvelope[ContactUpdated], contact: dict[str, Any],
                               session: AsyncClientSession) -> None:
        p = event.payload
        status = ContactStatus(contact["status"])
        if await self.verifies_itself(event.registrar_id, session):
            if status is not ContactStatus.VERIFIED:  # existing contacts are verified on their next update
                await self._registrar_verified(contact, event.correlation_id, session)
            return
        if status is ContactStatus.VERIFIED:
            await self._set_contact(contact, ContactAction.UNDO, session)
            self.metrics.outcomes.labels("undone", "update").inc()
            await self._publish([
                self._event(VerificationUndone(contact=p.alias), contact["registrar_id"], event.correlation_id),
                self._notice(contact, None, "verified_contact_updated",
                             "a verified registrant was updated: check the new data", event.correlation_id),
            ], session)
            await self._store_notice(contact["_id"], None, "verified_contact_updated", session)
            return
        # pending, unverified and failed contacts keep their status; an open case mails the new address
        if contact.get("case_id"):
            await self.db[CASES].update_one({"_id": contact["case_id"]},
                                            {"$set": {"email": p.email, "language": p.language}}, session=session)

    async def on_contact_deleted(self, event: EventEnvelope[ContactDeleted], session: AsyncClientSession) -> None:
        contact = await self.db[CONTACTS].find_one({"_id": event.payload.alias}, session=session)
        if contact is None:
            return
        case = await self._open_case_of(contact, session)
        if case is not None:
            await self._step(case, CaseAction.CANCEL, session, by="registry")
        await self.db[CONTACTS].delete_one({"_id": contact["_id"]}, session=session)

    # -- registrations --------------------------------------------------------------------------------------------

    async def on_domains_created(self, events: Sequence[EventEnvelope[DomainCreated]],
                                 session: AsyncClientSession) -> None:
        """A run of domain.created events (a BatchHandler): their contacts, registrars and recent registrations
        read in three queries, the registrations written in one; decided in order, so a contact selected by
        one registration of the run is pending for the next."""
        items = [e for e in events if e.payload.registrant]
        if not items:
            return
        run = await self._load_run({e.payload.registrant for e in items}, {e.registrar_id for e in items},  # type: ignore[misc]
                                   min(e.occurred_at for e in items), session)
        for e in items:
            await self._registered(run, "created", e.payload.name, e.payload.registrant, e.registrar_id,  # type: ignore[arg-type]
                                   e.occurred_at, False, e.correlation_id, session)
        await self._flush(run, session)

    async def on_domain_transferred(self, event: EventEnvelope[DomainTransferred],
                                    session: AsyncClientSession) -> None:
        p = event.payload
        old = await self.db[CONTACTS].find_one({"_id": p.old_registrant}, session=session) if p.old_registrant else None
        old_pending = bool(old and old["status"] == ContactStatus.PENDING.value)
        run = await self._load_run({p.new_registrant}, {event.registrar_id}, event.occurred_at, session)
        await self._registered(run, "transferred", p.name, p.new_registrant, event.registrar_id, event.occurred_at,
                               old_pending, event.correlation_id, session)
        await self._flush(run, session)

    async def _load_run(self, aliases: set[str], registrar_ids: set[str | None], earliest: datetime,
                        session: AsyncClientSession) -> _Run:
        contacts = {d["_id"]: d for d in await self.db[CONTACTS].find(
            {"_id": {"$in": sorted(aliases)}}, session=session).to_list()}
        ids = sorted(r for r in registrar_ids if r)
        verifies = {d["_id"] for d in await self.db[REGISTRARS].find(
            {"_id": {"$in": ids}, "verifies_itself": True}, {"_id": 1}, session=session).to_list()} if ids else set()
        recent: dict[str, list[datetime]] = {}
        for d in await self.db[REGISTRATIONS].find(
                {"contact": {"$in": sorted(aliases)}, "at": {"$gte": earliest - self.burst_window}},
                {"contact": 1, "at": 1}, session=session).to_list():
            recent.setdefault(d["contact"], []).append(d["at"])
        return _Run(contacts, verifies, recent, [])

    async def _flush(self, run: _Run, session: AsyncClientSession) -> None:
        if run.records:
            await self.db[REGISTRATIONS].insert_many(run.records, ordered=True, session=session)

    async def _registered(self, run: _Run, kind: str, domain: str, alias: str, registrar_id: str | None,
                          at: datetime, old_pending: bool, correlation_id: str | None,
                          session: AsyncClientSession) -> None:
        contact = run.contacts.get(alias)
        if contact is None:
            # the contact's event has not been applied yet: decide when it is (on_contact_created)
            await self.db[WAITING].update_one(
                {"_id": f"{kind}:{domain}:{at.isoformat()}"},
                {"$setOnInsert": {"kind": kind, "domain": domain, "contact": alias, "registrar_id": registrar_id,
                                  "at": at, "old_pending": old_pending, "correlation_id": correlation_id}},
                upsert=True, session=session)
            return
        status = ContactStatus(contact["status"])
        if kind == "transferred":
            # a transfer is not scored; the new contact's status applies, but an old pending contact with a
            # new unverified one makes the new one pending
            if status is ContactStatus.PENDING:
                await self._add_domain(contact, domain, kind, correlation_id, session)
            elif old_pending and status is ContactStatus.UNVERIFIED:
                await self._open_case(contact, domain, ContactAction.INHERIT, "transfer", correlation_id, session)
            return
        if status is ContactStatus.PENDING:
            # every later domain of a pending contact: its own "verification required", overridden too
            run.record(domain, contact, at, None, True)
            await self._add_domain(contact, domain, kind, correlation_id, session)
            return
        if status is ContactStatus.VERIFIED:
            run.record(domain, contact, at, None, False)
            late = await self._approved_after(contact, at, session)
            if late is not None:  # registered while pending: the approval won the race to this service
                await self._late_domain(late, contact, domain, correlation_id, session)
            return  # future domains of a verified handle are approved automatically
        if registrar_id in run.verifies:
            run.record(domain, contact, at, None, False)
            return  # the registrar verifies its contacts itself: never selected, not even a failed one again
        if status is ContactStatus.FAILED:
            # seed: any other new domain of the handle is selected again
            run.record(domain, contact, at, None, True)
            await self._open_case(contact, domain, ContactAction.SELECT, "reselected", correlation_id, session)
            return
        recent = sum(1 for t in run.recent.get(alias, ()) if at - self.burst_window <= t < at)
        result = score(Registration(domain, _registrant(contact), at, recent), self.rules)
        self.metrics.scored.inc()
        for rule in result.flagged:
            self.metrics.rule_hits.labels(rule).inc()
        run.record(domain, contact, at, result, result.selected)
        if result.selected:
            await self._open_case(contact, domain, ContactAction.SELECT, "scored", correlation_id, session,
                                  flagged=result.details)

    # -- cases ----------------------------------------------------------------------------------------------------

    async def _set_contact(self, contact: Document, action: ContactAction, session: AsyncClientSession,
                           **values: Any) -> ContactStatus:
        before = ContactStatus(contact["status"])
        after = next_contact(before, action)
        done = await self.db[CONTACTS].update_one({"_id": contact["_id"], "status": before.value},
                                                  {"$set": {"status": after.value, **values}}, session=session)
        if done.matched_count != 1:
            raise ChangedMeanwhile(f"contact {contact['_id']} changed meanwhile")
        contact.update(status=after.value, **values)  # a run of registrations goes on with this contact
        return after

    async def _open_case(self, contact: Document, domain: str, action: ContactAction, why: str,
                         correlation_id: str | None, session: AsyncClientSession,
                         flagged: dict[str, str] | None = None) -> Document:
        now = self.ctx.clock.now()
        case_id = uuid.uuid4().hex
        token = secrets.token_urlsafe(32)
        link = f"{self.settings.registrant_base_url}/verify/{token}"
        sealed = self.links.seal(link)
        case = {
            "_id": case_id, "contact": contact["_id"], "registrar_id": contact.get("registrar_id"),
            "status": CaseStatus.OPEN.value, "why": why, "flagged": flagged or {}, "domains": [domain],
            "attempts": 0, "allowed": self.settings.max_attempts, "opened_at": now, "updated_at": now,
            "deadline": now + timedelta(days=self.settings.proof_deadline_days),
            "token_digest": self.tokens.digest(token), "sealed_link": sealed,
            "token_expires_at": now + timedelta(days=self.settings.proof_deadline_days + 30),
            "email": contact.get("email"), "language": contact.get("language"),
            "history": [{"at": now, "action": "open", "status": CaseStatus.OPEN.value, "by": why}],
        }
        await self.db[CASES].insert_one(case, session=session)
        await self._set_contact(contact, action, session, case_id=case_id)
        self.metrics.selected.labels(why).inc()
        self.metrics.transitions.labels("open", CaseStatus.OPEN.value).inc()
        await self._publish([self._event(
            VerificationRequired(contact=contact["_id"], domain=domain, case_id=case_id, first=True,
                                 email=contact.get("email"), language=contact.get("language"), sealed_link=sealed),
            contact.get("registrar_id"), correlation_id)], session)
        return case

    async def _add_domain(self, contact: Document, domain: str, kind: str, correlation_id: str | None,
                          session: AsyncClientSession) -> None:
        case = await self._open_case_of(contact, session)
        case_id = case["_id"] if case else contact.get("case_id")
        if case is not None:
            await self.db[CASES].update_one({"_id": case["_id"]}, {"$addToSet": {"domains": domain}}, session=session)
        self.metrics.selected.labels("pending" if kind == "created" else "transfer").inc()
        await self._publish([self._event(
            VerificationRequired(contact=contact["_id"], domain=domain, case_id=case_id, first=False,
                                 email=contact.get("email"), language=contact.get("language")),
            contact.get("registrar_id"), correlation_id)], session)

    async def _approved_after(self, contact: Document, at: datetime, session: AsyncClientSession) -> Document | None:
        """The contact's case if it was open when the domain was registered (at) and approved since: the
        registry held the domain for it, so the domain is that case's as if its registration had come first."""
        if not contact.get("case_id"):
            return None
        case = await self.db[CASES].find_one({"_id": contact["case_id"]}, session=session)
        if case is None or case["status"] != CaseStatus.APPROVED.value:
            return None
        closed = case.get("closed_at")
        return case if case["opened_at"] <= at and closed is not None and at < closed else None

    async def _late_domain(self, case: Document, contact: Document, domain: str, correlation_id: str | None,
                           session: AsyncClientSession) -> None:
        """Both messages a domain of a pending contact gets, in order: verification required, then approved
        (the registrant's mail names it too); the registry ignores the late 'required' of a verified contact."""
        if domain in case["domains"]:
            return
        await self.db[CASES].update_one({"_id": case["_id"]}, {"$addToSet": {"domains": domain}}, session=session)
        await self._publish([
            self._event(VerificationRequired(contact=contact["_id"], domain=domain, case_id=case["_id"], first=False,
                                             email=contact.get("email"), language=contact.get("language")),
                        contact.get("registrar_id"), correlation_id),
            self._event(VerificationApproved(contact=case["contact"], case_id=case["_id"], method=case.get("method"),
                                             domains=[domain], email=case.get("email"), language=case.get("language"),
                                             additional=True),
                        case.get("registrar_id"), correlation_id)], session)

    async def _open_case_of(self, contact: Document, session: AsyncClientSession | None = None) -> Document | None:
        if not contact.get("case_id"):
            return None
        case = await self.db[CASES].find_one({"_id": contact["case_id"]}, session=session)
        return case if case and CaseStatus(case["status"]) in OPEN_STATES else None

    async def _step(self, case: Document, action: CaseAction, session: AsyncClientSession, *, by: str,
                    note: str | None = None, **values: Any) -> CaseStatus:
        """Move the case by `action` (transitions.next_case), compare-and-set on the status read."""
        before = CaseStatus(case["status"])
        step = next_case(before, action, int(case["attempts"]), int(case["allowed"]))
        now = self.ctx.clock.now()
        update: dict[str, Any] = {"$set": {"status": step.status.value, "attempts": step.attempts,
                                           "allowed": step.allowed, "updated_at": now, **values},
                                  "$push": {"history": {"at": now, "action": action.value, "from": before.value,
                                                        "status": step.status.value, "by": by, "note": note}}}
        if step.status.closed:
            update["$set"]["closed_at"] = now
        done = await self.db[CASES].update_one({"_id": case["_id"], "status": before.value,
                                                "attempts": case["attempts"]}, update, session=session)
        if done.matched_count != 1:
            raise ChangedMeanwhile(f"case {case['_id']} changed meanwhile")
        case.update(update["$set"])
        self.metrics.transitions.labels(action.value, step.status.value).inc()
        if step.exhausted:
            self.metrics.attempts_exhausted.inc()
            contact = await self.db[CONTACTS].find_one({"_id": case["contact"]}, session=session) or {"_id": case["contact"]}
            await self._publish([self._notice(contact, case["_id"], "attempts_exhausted",
                                              f"{step.attempts} attempts used", None, case.get("registrar_id"))],
                                session)
            await self._store_notice(case["contact"], case["_id"], "attempts_exhausted", session)
        return step.status

    def _notice(self, contact: Document, case_id: str | None, reason: str, detail: str | None,
                correlation_id: str | None, registrar_id: str | None = None) -> EventEnvelope[Any]:
        return self._event(VerificationSupportNotice(contact=contact["_id"], case_id=case_id, reason=reason,
                                                     detail=detail),
                           registrar_id or contact.get("registrar_id"), correlation_id)

    async def _store_notice(self, contact: str, case_id: str | None, reason: str, session: AsyncClientSession) -> None:
        await self.db[NOTICES].insert_one({"contact": contact, "case_id": case_id, "reason": reason,
                                           "at": self.ctx.clock.now(), "done": False}, session=session)

    async def _approve(self, case: Document, action: CaseAction, method: str, session: AsyncClientSession,
                       correlation_id: str | None, by: str, note: str | None = None) -> None:
        await self._step(case, action, session, by=by, note=note, method=method)
        contact = await self.db[CONTACTS].find_one({"_id": case["contact"]}, session=session)
        if contact is not None and contact.get("case_id") == case["_id"]:
            await self._set_contact(contact, ContactAction.REGISTRAR_VERIFY if method == "registrar"
                                    else ContactAction.APPROVE, session)
        self.metrics.outcomes.labels("verified", method).inc()
        self.metrics.time_to_verification.labels(method).observe(
            (self.ctx.clock.now() - case["opened_at"]).total_seconds())
        await self._publish([self._event(
            VerificationApproved(contact=case["contact"], case_id=case["_id"], method=method,
                                 domains=list(case["domains"]), email=case.get("email"),
                                 language=case.get("language")),
            case.get("registrar_id"), correlation_id)], session)

    async def _fail(self, case: Document, action: CaseAction, reason: str, session: AsyncClientSession,
                    correlation_id: str | None, by: str, note: str | None = None) -> None:
        # support's note on a rejection is shown to the registrant (request: what support last said)
        extra = {"request": note} if note else {}
        await self._step(case, action, session, by=by, note=note or reason, failure=reason, **extra)
        contact = await self.db[CONTACTS].find_one({"_id": case["contact"]}, session=session)
        if contact is not None and contact.get("case_id") == case["_id"]:
            await self._set_contact(contact, ContactAction.FAIL, session)
        self.metrics.outcomes.labels("failed", reason).inc()
        await self._publish([self._event(
            VerificationFailed(contact=case["contact"], case_id=case["_id"], reason=reason,
                               domains=list(case["domains"]), email=case.get("email"), language=case.get("language")),
            case.get("registrar_id"), correlation_id)], session)

    async def _registrar_verified(self, contact: Document, correlation_id: str | None,
                                  session: AsyncClientSession) -> None:
        case = await self._open_case_of(contact, session)
        if case is not None:
            await self._approve(case, CaseAction.REGISTRAR_VERIFIED, "registrar", session, correlation_id, "registrar")
            return
        await self._set_contact(contact, ContactAction.REGISTRAR_VERIFY, session)
        self.metrics.outcomes.labels("verified", "registrar").inc()
        await self._publish([self._event(
            VerificationApproved(contact=contact["_id"], method="registrar", email=contact.get("email"),
                                 language=contact.get("language")),
            contact.get("registrar_id"), correlation_id)], session)

    # -- actions over HTTP ----------------------------------------------------------------------------------------

    async def _transaction(self, work: Any) -> Any:
        result = await in_transaction(self.ctx.client, work)
        self.ctx.committed()
        return result

    async def case_by_token(self, token: str, session: AsyncClientSession | None = None) -> Document:
        if not token or len(token) > 100:
            raise NotFound()
        case = await self.db[CASES].find_one({"token_digest": {"$in": self.tokens.digests(token)}}, session=session)
        if case is None or case["token_expires_at"] <= self.ctx.clock.now():
            raise NotFound()
        return case

    def link_of(self, case: Document) -> str:
        return self.links.open(case["sealed_link"])

    async def start_eid(self, token: str, callback_url: str) -> Outcome:
        state = secrets.token_urlsafe(24)

        async def work(session: AsyncClientSession) -> Outcome:
            case = await self.case_by_token(token, session)  # a wrong token stays a bare 404
            if self.eid is None:
                raise Refused(EID_UNAVAILABLE, "eid_unavailable")
            await self._step(case, CaseAction.START_EID, session, by="registrant",
                             eid_state=self.tokens.digest(state))
            return Outcome(case, redirect_url=self.eid.authorisation_url(state, callback_url))

        return await self._transaction(work)

    async def eid_callback(self, result: EidResult, correlation_id: str | None) -> Outcome:
        async def work(session: AsyncClientSession) -> Outcome:
            case = await self.db[CASES].find_one({"eid_state": {"$in": self.tokens.digests(result.state)}}, session=session)
            if case is None or CaseStatus(case["status"]) is not CaseStatus.EID_STARTED:
                raise NotFound()
            await self.db[CASES].update_one({"_id": case["_id"]}, {"$unset": {"eid_state": ""}}, session=session)
            if not result.ok or not result.subject:
                await self._step(case, CaseAction.EID_FAILED, session, by="eid", note=result.reason)
                return Outcome(case, message=result.reason)
            subject = self.subjects.digest(result.subject)
            person = await self.db[INDIVIDUALS].find_one({"_id": subject}, session=session) or {}
            cap = int(person.get("cap", self.settings.verifications_per_individual))
            if int(person.get("count", 0)) >= cap:
                self.metrics.cap_reached.inc()
                await self._step(case, CaseAction.CAP_REACHED, session, by="eid", capped_subject=subject,
                                 note=f"individual at its cap of {cap}")
                contact = await self.db[CONTACTS].find_one({"_id": case["contact"]}, session=session) \
                    or {"_id": case["contact"]}
                await self._publish([self._notice(contact, case["_id"], "individual_cap_reached",
                                                  f"cap {cap}", correlation_id, case.get("registrar_id"))], session)
                await self._store_notice(case["contact"], case["_id"], "individual_cap_reached", session)
                return Outcome(case, message="the maximum number of verifications for this person is reached: "
                                             "please contact support")
            await self._count_individual(subject, session)
            await self._approve(case, CaseAction.EID_OK, "eid", session, correlation_id, "eid")
            return Outcome(case)

        return await self._transaction(work)

    async def _count_individual(self, subject: str, session: AsyncClientSession) -> None:
        await self.db[INDIVIDUALS].update_one({"_id": subject}, {"$inc": {"count": 1}}, upsert=True, session=session)

    async def upload(self, token: str, uploads: list[Upload]) -> Outcome:
        async def work(session: AsyncClientSession) -> Outcome:
            case = await self.case_by_token(token, session)
            now = self.ctx.clock.now()
            await self._step(case, CaseAction.UPLOAD, session, by="registrant", review_since=now)
            await self.db[DOCUMENTS].insert_many([
                {"_id": uuid.uuid4().hex, "case_id": case["_id"], "filename": u.filename,
                 "content_type": u.content_type, "size": len(u.data), "data": u.data, "uploaded_at": now,
                 "attempt": case["attempts"]} for u in uploads], session=session)
            return Outcome(case)

        return await self._transaction(work)

    async def case(self, case_id: str, session: AsyncClientSession | None = None) -> Document:
        case = await self.db[CASES].find_one({"_id": case_id}, session=session)
        if case is None:
            raise NotFound()
        return case

    async def review(self, case_id: str, decision: str, note: str | None, subject: str | None,
                     correlation_id: str | None, by: str = "support") -> Document:
        """Support's decision on a case in review (or sent to support): approve, reject or ask for more."""
        async def work(session: AsyncClientSession) -> Document:
            case = await self.case(case_id, session)
            if decision == "approve":
                if subject:
                    await self._count_individual(self.subjects.digest(subject), session)
                await self._approve(case, CaseAction.APPROVE, "documents", session, correlation_id, by, note)
            elif decision == "reject":
                await self._fail(case, CaseAction.REJECT, "rejected", session, correlation_id, by, note)
            else:
                await self._step(case, CaseAction.ASK_MORE, session, by=by, note=note, request=note)
            return case

        return await self._transaction(work)

    async def raise_cap(self, case_id: str, extra: int, correlation_id: str | None, by: str = "support") -> Document:
        """Support lets the individual that hit the cap verify this case: its cap goes up by `extra`."""
        async def work(session: AsyncClientSession) -> Document:
            case = await self.case(case_id, session)
            subject = case.get("capped_subject")
            if not subject or CaseStatus(case["status"]) is not CaseStatus.SUPPORT:
                raise Refused("this case did not stop at the cap of verifications per individual")
            person = await self.db[INDIVIDUALS].find_one({"_id": subject}, session=session) or {}
            cap = int(person.get("cap", self.settings.verifications_per_individual))
            await self.db[INDIVIDUALS].update_one({"_id": subject}, {"$set": {"cap": cap + extra}, "$inc": {"count": 1}},
                                                  upsert=True, session=session)
            await self._approve(case, CaseAction.RAISE_CAP, "eid", session, correlation_id, by,
                                f"cap raised to {cap + extra}")
            return case

        return await self._transaction(work)

    async def review_queue(self) -> list[Document]:
        return await self.db[CASES].find(
            {"status": {"$in": [CaseStatus.IN_REVIEW.value, CaseStatus.SUPPORT.value]}},
            {"token_digest": 0, "sealed_link": 0}).sort("updated_at", 1).to_list(500)

    async def documents(self, case_id: str, with_data: bool = False) -> list[Document]:
        projection = None if with_data else {"data": 0}
        return await self.db[DOCUMENTS].find({"case_id": case_id}, projection).sort("uploaded_at", 1).to_list(100)

    async def notices(self) -> list[Document]:
        return await self.db[NOTICES].find({}, {"_id": 0}).sort("at", -1).to_list(500)

    # -- the registrar's side -------------------------------------------------------------------------------------

    async def own_contact(self, registrar_id: str, alias: str) -> tuple[Document, Document | None]:
        contact = await self.db[CONTACTS].find_one({"_id": alias, "registrar_id": registrar_id})
        if contact is None:
            raise NotFound()
        case = await self.db[CASES].find_one({"_id": contact["case_id"]}) if contact.get("case_id") else None
        return contact, case

    async def link_for_registrar(self, registrar_id: str, alias: str) -> tuple[Document, str]:
        _, case = await self.own_contact(registrar_id, alias)
        if case is None or CaseStatus(case["status"]) not in OPEN_STATES:
            raise Refused(f"contact {alias} has no verification in progress")
        return case, self.link_of(case)

    async def resend(self, registrar_id: str, alias: str, correlation_id: str | None) -> Document:
        case, _ = await self.link_for_registrar(registrar_id, alias)

        async def work(session: AsyncClientSession) -> Document:
            await self._publish([self._event(
                VerificationLinkResent(contact=alias, case_id=case["_id"], email=case["email"],
                                       language=case.get("language"), sealed_link=case["sealed_link"]),
                registrar_id, correlation_id)], session)
            await self.db[CASES].update_one({"_id": case["_id"]}, {"$inc": {"resent": 1}}, session=session)
            return case

        return await self._transaction(work)

    async def set_registrar(self, registrar_id: str, verifies_itself: bool) -> None:
        await self.db[REGISTRARS].update_one({"_id": registrar_id}, {"$set": {"verifies_itself": verifies_itself,
                                                                             "changed_at": self.ctx.clock.now()}},
                                             upsert=True)

    # -- the periodic job -----------------------------------------------------------------------------------------

    async def run_due(self) -> dict[str, int]:
        """End the eID attempts abandoned at the provider, fail the cases whose registrant gave no proof by
        the deadline; refresh the gauges."""
        now = self.ctx.clock.now()
        abandoned = await self._end_abandoned_eid(now - timedelta(minutes=self.settings.eid_timeout_minutes))
        due = await self.db[CASES].find({"status": {"$in": [s.value for s in AWAITING_REGISTRANT]},
                                         "deadline": {"$lte": now}}, {"_id": 1}).to_list(1000)
        expired = 0
        for doc in due:
            async def work(session: AsyncClientSession, case_id: str = doc["_id"]) -> None:
                case = await self.case(case_id, session)
                await self._fail(case, CaseAction.EXPIRE, "expired", session, None, "deadline")

            try:
                await self._transaction(work)
                expired += 1
            except (TransitionRefused, ChangedMeanwhile):
                continue  # proof arrived meanwhile
        deleted = await self._delete_documents_of_closed_cases(
            now - timedelta(days=self.settings.document_retention_days), now)
        await self.refresh_gauges()
        return {"expired": expired, "abandoned": abandoned, "documents_deleted": deleted}

    async def _delete_documents_of_closed_cases(self, closed_before: datetime, now: datetime) -> int:
        """Identity documents are kept DOCUMENT_RETENTION_DAYS after their case closed, then deleted (a closed
        case takes no more uploads). The case keeps its history and notes that its documents are gone."""
        cases = await self.db[CASES].find({"closed_at": {"$lte": closed_before},
                                           "documents_deleted_at": {"$exists": False}}, {"_id": 1}).to_list(1000)
        deleted = 0
        for case in cases:
            deleted += (await self.db[DOCUMENTS].delete_many({"case_id": case["_id"]})).deleted_count
            await self.db[CASES].update_one({"_id": case["_id"]}, {"$set": {"documents_deleted_at": now}})
        if deleted:
            self.metrics.documents_deleted.inc(deleted)
            log.info("deleted %d identity documents of %d cases closed before %s", deleted, len(cases),
                     closed_before.isoformat())
        return deleted

    async def _end_abandoned_eid(self, started_before: datetime) -> int:
        """An eID attempt whose callback never came counts as failed (the last one sends the case to
        support); run before the deadline, so an abandoned last attempt goes to support, not to FAILED."""
        stale = await self.db[CASES].find({"status": CaseStatus.EID_STARTED.value,
                                           "updated_at": {"$lte": started_before}}, {"_id": 1}).to_list(1000)
        ended = 0
        for doc in stale:
            async def work(session: AsyncClientSession, case_id: str = doc["_id"]) -> bool:
                case = await self.case(case_id, session)
                if case["updated_at"] > started_before:
                    return False  # started again meanwhile
                await self._step(case, CaseAction.EID_ABANDONED, session, by="eid-timeout",
                                 note="no callback from the eID provider")
                # a callback arriving after all finds no attempt to finish
                await self.db[CASES].update_one({"_id": case_id}, {"$unset": {"eid_state": ""}},
                                                session=session)
                return True

            try:
                ended += int(await self._transaction(work))
            except (TransitionRefused, ChangedMeanwhile):
                continue  # the callback arrived meanwhile
        return ended

    async def refresh_gauges(self) -> None:
        by_status = await (await self.db[CONTACTS].aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])).to_list()
        counts = {d["_id"]: d["n"] for d in by_status}
        for status in ContactStatus:
            self.metrics.contacts.labels(status.value).set(counts.get(status.value, 0))
        open_cases = await (await self.db[CASES].aggregate([
            {"$match": {"status": {"$in": [s.value for s in OPEN_STATES]}}},
            {"$group": {"_id": "$status", "n": {"$sum": 1}}}])).to_list()
        counts = {d["_id"]: d["n"] for d in open_cases}
        for s in OPEN_STATES:
            self.metrics.cases_open.labels(s.value).set(counts.get(s.value, 0))
        oldest = await self.db[CASES].find(
            {"status": {"$in": [CaseStatus.IN_REVIEW.value, CaseStatus.SUPPORT.value]}}).sort("updated_at", 1) \
            .limit(1).to_list()
        age = (self.ctx.clock.now() - oldest[0]["updated_at"]).total_seconds() if oldest else 0
        self.metrics.review_oldest.set(max(age, 0))
        self.metrics.jobs_last_run.set(self.ctx.clock.now().timestamp())


def verification_of(ctx: ServiceContext) -> Verification:
    app = ctx.extras.get("verification")
    if app is None:
        app = ctx.extras["verification"] = Verification(ctx)
    return app
