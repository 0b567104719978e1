"""The notifications rules without broker or database: the CPS e-mail byte for byte against the digest
(section 1.3 format, 1.4 catalogue), the poll payload, routing by EPP settings, category fallback and
languages, and which messages an event means."""

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.cps import cps, poll_fields, stamp
from services.notifications.messages import MAILS, STRUCTURED, Category, as_markdown
from services.notifications.routing import (
    Channel,
    RegistrarSettings,
    category_addresses,
    languages_for,
    structured_route,
)
from services.notifications.triggers import RegistrantMail, SupportMail, ToRegistrar, notices
from shared.clock import ManualClock
from shared.events import EventEnvelope, new_event
from shared.events.contacts import ContactDeleted
from shared.events.domains import DomainTransferred, TransferCodeSent
from shared.events.feeds import (
    DomainInViolation,
    DomainShieldRemoved,
    MonitoredUpdateAuthorised,
    MonitoredUpdateClosed,
    MonitoredUpdateOutcome,
    TransferUndone,
)
from shared.events.verification import VerificationApproved, VerificationRequired, VerificationSupportNotice

AT = datetime(2026, 11, 23, 8, 15, 30, 123456, tzinfo=UTC)


def test_email_bounced_cps_is_the_digest_format_byte_for_byte() -> None:
    rendered = cps(STRUCTURED["email.bounced"],
                   {"email": "jan@example.be", "detailedcode": "5.1.1", "date": stamp(AT)},
                   {"email": "jan@example.be"}, "en")
    assert rendered.subject == "E-mail to jan@example.be bounced: Permanent Failure"
    assert rendered.body == (
        "##SUBJECT: E-mail to jan@example.be bounced: Permanent Failure\n"
        "\n"
        "----BEGIN-OF-CPS----\n"
        "TYPE: EMAIL\n"
        "ACTION: BOUNCED\n"
        "EMAIL: jan@example.be\n"
        "DETAILEDCODE: 5.1.1\n"
        "DATE: 2026-11-23T08:15:30.123Z\n"
        "RETURNCODE: 2000\n"
        "----END-OF-CPS----\n"
    )


@pytest.mark.parametrize(("key", "values", "variables", "expected"), [
    ("contact.deleted_by_registry", {"contact": "c123456", "date": "2026-11-23T08:15:30.123Z"},
     {"contactAlias": "c123456"},
     ("##SUBJECT: Contact c123456 deleted\n\n----BEGIN-OF-CPS----\nTYPE: DEL_CONTACT_BY_REGISTRY\n"
     "ACTION: CONTACT DELETED\nCONTACT: c123456\nDATE: 2026-11-23T08:15:30.123Z\nRETURNCODE: 1000\n"
     "----END-OF-CPS----\n")),
    ("verification.required.domain", {"domain": "voorbeeld.be", "date": "2026-11-23T08:15:30.123Z"},
     {"domainNameASCII": "voorbeeld", "tld": "be"},
     ("##SUBJECT: Verification required for domain voorbeeld.be\n\n----BEGIN-OF-CPS----\nTYPE: DOMAIN\n"
     "ACTION: VERIFICATION REQUIRED\nDOMAINNAME: voorbeeld.be\nDATE: 2026-11-23T08:15:30.123Z\nRETURNCODE: 1505\n"
     "----END-OF-CPS----\n")),
    ("verification.undone.contact", {"contact": "c1", "date": "2026-11-23T08:15:30.123Z"}, {"contactAlias": "c1"},
     ("##SUBJECT: Verification undone for contact c1\n\n----BEGIN-OF-CPS----\nTYPE: CONTACT\n"
     "ACTION: VERIFICATION UNDONE\nCONTACT: c1\nDATE: 2026-11-23T08:15:30.123Z\nRETURNCODE: 1507\n"
     "----END-OF-CPS----\n")),
    ("monitored_update.expired", {"contact": "c1", "date": "2026-11-23T08:15:30.123Z"}, {"contactAlias": "c1"},
     ("##SUBJECT: Monitored update for c1 has expired\n\n----BEGIN-OF-CPS----\nTYPE: MONITORED_UPD_CONTACT\n"
     "ACTION: EXPIRED\nCONTACT: c1\nDATE: 2026-11-23T08:15:30.123Z\nRETURNCODE: 1503\n----END-OF-CPS----\n")),
    ("domain.shield_removed", {"domainname": "shield.be", "email": "support@dnsbelgium.be"}, {"domainName": "shield"},
     ("##SUBJECT: Domain Shield switched off for shield.be\n\n----BEGIN-OF-CPS----\nTYPE: DOMAIN\n"
     "ACTION: DOMAIN SHIELD REMOVED\nDOMAINNAME: shield.be\nEMAIL: support@dnsbelgium.be\nRETURNCODE: 1000\n"
     "----END-OF-CPS----\n")),
])
def test_catalogue_messages_render_as_the_digest_documents(key: str, values: dict, variables: dict,
                                                           expected: str) -> None:
    assert cps(STRUCTURED[key], values, variables, "en").body == expected


def test_the_digest_catalogue_codes_and_poll_texts() -> None:
    expected = {
        "email.bounced": ("EMAIL", "BOUNCED", 2000, "E-mail bounced"),
        "contact.deleted_by_registry": ("DEL_CONTACT_BY_REGISTRY", "CONTACT DELETED", 1000,
                                        "Contact is deleted by Registry for privacy reasons"),
        "verification.required.contact": ("CONTACT", "VERIFICATION REQUIRED", 1505, "Verification required for contact"),
        "verification.approved.domain": ("DOMAIN", "VERIFICATION APPROVED", 1000, "Verification approved for domain"),
        "monitored_update.approved": ("MONITORED_UPD_CONTACT", "APPROVED", 1502, "Monitored contact update approved"),
        "watermark.reached": ("WATERMARK", "REACHED", 1000, "Watermark Reached"),
        "transfer.code_bounced": ("TRANSFER", "BOUNCED", 1159, "Transfer code e-mail bounced"),
    }
    for key, (type_, action, code, msg) in expected.items():
        m = STRUCTURED[key]
        assert (m.type, m.action, m.returncode, m.msg["en"]) == (type_, action, code, msg)
    for m in STRUCTURED.values():  # every text in the three languages
        assert set(m.subject) == set(m.msg) == {"nl", "fr", "en"}, m.key
    assert "| email.bounced | EMAIL | BOUNCED | 2000 |" in as_markdown()


def test_poll_payload_and_cps_carry_the_same_fields() -> None:
    m = STRUCTURED["email.bounced"]
    values = {"email": "a@b.be", "detailedcode": "", "date": "2026-11-23T08:15:30.123Z"}
    assert poll_fields(m, values) == {"type": "EMAIL", "action": "BOUNCED", "email": "a@b.be",
                                      "date": "2026-11-23T08:15:30.123Z", "returncode": "2000"}
    body = cps(m, values, {"email": "a@b.be"}, "en").body
    assert "DETAILEDCODE" not in body  # "if available": left out of both when the server gave none
    keys = [line.split(":")[0].lower() for line in body.splitlines()[3:-1]]
    assert keys == list(poll_fields(m, values))


def test_subjects_follow_the_language() -> None:
    m = STRUCTURED["verification.required.contact"]
    assert cps(m, {"contact": "c1", "date": "x"}, {"contactAlias": "c1"}, "nl").subject == \
        "Verificatie vereist voor contact c1"
    assert cps(m, {"contact": "c1", "date": "x"}, {"contactAlias": "c1"}, "fr").subject == \
        "Vérification requise pour le contact c1"


def test_structured_routing_follows_the_poll_switch() -> None:
    on = RegistrarSettings("r1", email="info@r.be", automated_email="epp@r.be", poll=True)
    off = RegistrarSettings("r1", email="info@r.be", automated_email="epp@r.be", poll=False)
    no_automated = RegistrarSettings("r1", email="info@r.be", poll=False)
    unknown = RegistrarSettings("r1")
    assert structured_route(on).channel is Channel.POLL
    assert (structured_route(off).channel, structured_route(off).address) == (Channel.CPS, "epp@r.be")
    assert structured_route(no_automated).address == "info@r.be"
    assert structured_route(unknown).channel is Channel.POLL  # kept, never lost


def test_category_addresses_fall_back_to_the_general_address_except_the_newsletter() -> None:
    r = RegistrarSettings("r1", email="info@r.be", categories={
        "legal": ("l1@r.be", "l2@r.be", "l3@r.be", "l4@r.be", "l5@r.be", "l6@r.be"), "newsletter": ()})
    assert category_addresses(r, Category.LEGAL) == ["l1@r.be", "l2@r.be", "l3@r.be", "l4@r.be", "l5@r.be"]
    assert category_addresses(r, Category.TECHNICAL) == ["info@r.be"]
    assert category_addresses(r, Category.ABUSE) == ["info@r.be"]
    assert category_addresses(r, Category.NEWSLETTER) == []
    assert category_addresses(r, Category.GENERAL) == ["info@r.be"]


def test_languages_in_the_registrars_order_or_its_first() -> None:
    assert languages_for(["fr", "en"], {"nl", "fr", "en"}, multilingual=True) == ["fr", "en"]
    assert languages_for(["en", "nl"], {"nl", "fr", "en"}, multilingual=True) == ["en", "nl"]
    assert languages_for(["fr", "en"], {"nl", "fr", "en"}, multilingual=False) == ["fr"]
    assert languages_for(["fr", "en"], {"nl", "en"}, multilingual=False) == ["en"]  # fr does not exist
    assert languages_for(["fr"], {"nl"}, multilingual=True) == ["nl"]  # only in another language: that one
    assert languages_for(["en"], set(), multilingual=True) == []


def _event(payload: object, registrar_id: str = "r1") -> EventEnvelope:
    return new_event(payload, registrar_id=registrar_id, correlation_id=None, clock=ManualClock(AT))  # type: ignore[arg-type]


def test_verification_required_first_tells_contact_domain_and_registrant() -> None:
    out = notices(_event(VerificationRequired(contact="c1", domain="x.be", email="jan@x.be", language="nl",
                                              sealed_link="sealed", case_id="k1")))
    assert [n.message for n in out if isinstance(n, ToRegistrar)] == ["verification.required.contact",
                                                                      "verification.required.domain"]
    mail = next(n for n in out if isinstance(n, RegistrantMail))
    assert (mail.email, mail.language, mail.sealed["link"][1]) == ("jan@x.be", "nl", "sealed")
    later = notices(_event(VerificationRequired(contact="c1", domain="y.be", first=False)))
    assert [n.message for n in later] == ["verification.required.domain"]  # type: ignore[union-attr]


def test_approval_tells_the_contact_and_each_domain() -> None:
    out = notices(_event(VerificationApproved(contact="c1", domains=["a.be", "b.be"])))
    assert [(n.message, n.object) for n in out] == [  # type: ignore[union-attr]
        ("verification.approved.contact", "c1"), ("verification.approved.domain", "a.be"),
        ("verification.approved.domain", "b.be")]


def test_the_registrant_hears_of_an_approval_only_with_domains_to_tell_of() -> None:
    approved = VerificationApproved(contact="c1", method="eid", domains=["a.be"], email="jan@x.be")
    mails = [n.mail for n in notices(_event(approved)) if isinstance(n, RegistrantMail)]
    assert mails == ["registrant.verification_approved"]
    # verified by its registrar at creation: no case, no domain, no mail to the registrant
    by_registrar = notices(_event(VerificationApproved(contact="c1", method="registrar", email="jan@x.be")))
    assert [n.message for n in by_registrar] == ["verification.approved.contact"]  # type: ignore[union-attr]


def test_a_late_domains_approval_tells_the_domain_and_the_registrant_not_the_contact_again() -> None:
    late = VerificationApproved(contact="c1", method="eid", domains=["late.be"], email="jan@x.be", additional=True)
    out = notices(_event(late))
    assert [(n.message, n.object) for n in out if not isinstance(n, RegistrantMail)] == [  # type: ignore[union-attr]
        ("verification.approved.domain", "late.be")]
    [mail] = [n for n in out if isinstance(n, RegistrantMail)]
    assert mail.variables == {"domains": "late.be"}


def test_a_support_notice_is_a_mail_to_support_only() -> None:
    [n] = notices(_event(VerificationSupportNotice(contact="c1", reason="verified_contact_updated")))
    assert isinstance(n, SupportMail) and n.mail == "support.verification_notice"
    assert n.variables == {"reason": "verified_contact_updated", "contact": "c1", "registrar": "r1",
                           "case": "-", "detail": "-"}
    mail = MAILS[n.mail]
    for lang in ("nl", "fr", "en"):
        assert "${contact}" in mail.subject[lang] and "${case}" in mail.body[lang]


def test_transfer_away_goes_to_the_losing_registrar_and_the_code_to_the_registrant() -> None:
    out = notices(_event(DomainTransferred(name="x.be", gaining_registrar_id="g", losing_registrar_id="l",
                                           old_registrant="c1", new_registrant="c2", from_quarantine=False,
                                           expires_at=AT), registrar_id="g"))
    assert [(n.registrar_id, n.message) for n in out] == [("l", "transfer.away")]  # type: ignore[union-attr]
    code = notices(_event(TransferCodeSent(name="x.be", registrant="c1", email="jan@x.be", sealed_code="S",
                                           valid_until=AT, sends=1)))
    assert isinstance(code[0], RegistrantMail) and code[0].sealed == {"code": ("transfer-code", "S")}
    assert "[[code]]" in MAILS["registrant.transfer_code"].body["en"]


def test_a_contact_the_registrar_deleted_itself_means_no_message() -> None:
    assert notices(_event(ContactDeleted(alias="c1", type="REGISTRANT"))) == []
    assert len(notices(_event(ContactDeleted(alias="c1", type="REGISTRANT", by_registry=True)))) == 1


def test_stamp_is_utc_with_milliseconds() -> None:
    assert stamp(datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)) == "2026-01-02T03:04:05.006Z"


def test_registry_desk_feeds_become_their_catalogue_messages() -> None:
    violation = notices(_event(DomainInViolation(name="x.be", reason="Incorrect registrant data")))
    assert [(n.registrar_id, n.message, n.values["domainname"]) for n in violation] == [  # type: ignore[union-attr]
        ("r1", "domain.in_violation", "x.be")]
    undone = notices(_event(TransferUndone(name="x.be", gaining_registrar_id="g", losing_registrar_id="l",
                                           undone_at=AT), registrar_id="l"))
    assert [(n.registrar_id, n.message) for n in undone] == [("l", "transfer.undone"),  # type: ignore[union-attr]
                                                             ("g", "transfer.undone")]
    for outcome, code in ((MonitoredUpdateOutcome.APPROVED, 1502), (MonitoredUpdateOutcome.EXPIRED, 1503)):
        [n] = notices(_event(MonitoredUpdateClosed(contact="c1", outcome=outcome, closed_at=AT)))
        assert isinstance(n, ToRegistrar) and STRUCTURED[n.message].returncode == code
        assert poll_fields(STRUCTURED[n.message], n.values) == {
            "type": "MONITORED_UPD_CONTACT", "action": outcome.value.upper(), "contact": "c1", "date": stamp(AT),
            "returncode": str(code)}


def test_a_monitored_update_gets_its_go_ahead() -> None:
    deadline = AT + timedelta(days=7)
    [n] = notices(_event(MonitoredUpdateAuthorised(contact="c1", deadline=deadline)))
    assert isinstance(n, ToRegistrar) and n.registrar_id == "r1"
    assert poll_fields(STRUCTURED[n.message], n.values) == {
        "type": "MONITORED_UPD_CONTACT", "action": "AUTHORISED", "contact": "c1", "date": stamp(deadline),
        "returncode": "1501"}
    # digest 1.4 publishes no template for the go ahead: its code follows 1502/1503 and its words the approved
    # message's (#8 "Monitored contact ${contactAlias} update approved"), in every language
    rendered = cps(STRUCTURED[n.message], n.values, n.variables, "en")
    assert rendered.subject == "Monitored contact c1 update authorised"
    approved, authorised = STRUCTURED["monitored_update.approved"], STRUCTURED[n.message]
    assert approved.subject["en"] == "Monitored contact ${contactAlias} update approved"
    assert approved.msg["en"] == "Monitored contact update approved"
    for language, (done, go) in {"nl": ("goedgekeurd", "toegestaan"), "fr": ("approuvée", "autorisée"),
                                 "en": ("approved", "authorised")}.items():
        assert authorised.subject[language] == approved.subject[language].replace(done, go), language
        assert authorised.msg[language] == approved.msg[language].replace(done, go), language


def test_domain_shield_removed_cps_carries_the_domain_and_who_did_it() -> None:
    [n] = notices(_event(DomainShieldRemoved(name="shop.be", by_email="shield@registrar.be")))
    assert isinstance(n, ToRegistrar)
    rendered = cps(STRUCTURED[n.message], n.values, n.variables, "en")
    assert rendered.body == ("##SUBJECT: Domain Shield switched off for shop.be\n\n----BEGIN-OF-CPS----\n"
                             "TYPE: DOMAIN\nACTION: DOMAIN SHIELD REMOVED\nDOMAINNAME: shop.be\n"
                             "EMAIL: shield@registrar.be\nRETURNCODE: 1000\n----END-OF-CPS----\n")


def test_every_structured_message_has_a_trigger() -> None:
    """No catalogue entry is documentation only: each names the event that sends it."""
    assert [key for key, m in STRUCTURED.items() if m.trigger.startswith("none")] == []
