"""Becoming a registrar (seed 001): application, contract, prepayment, activation.

An operator records the application, then the contract signature, then the prepayment; the registrar
then activates its account itself with its registrar id and the 12-digit security code of its letter.
Each step is allowed only after the one before (otherwise 2304, and nothing changes) and commits its
changes and events in one transaction.

Signing the contract creates the account in PENDING_ACTIVATION with no usable password: only the
activation, by whoever holds the letter, sets the web and EPP passwords. The code is shown once and
stored hashed; five wrong codes lock the activation until an operator issues a new code. After the
activation the registrar still needs a billing and a tech contact before its first domain: the domain
commands enforce that through contacts/rules.py.

Only ICANN-accredited registrars register .vlaanderen and .brussels (gTLDs) directly. An applicant that
is not accredited resells a gTLD through a registrar of this registry that is: it registers nothing in
that gTLD itself, but shows a product URL for it in the public "find a registrar" list.
"""

from __future__ import annotations

import re
import secrets
import textwrap
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, EmailStr, Field, HttpUrl, SecretStr, field_validator

from services.registry.registrars import money
from services.registry.registrars.create import NewRegistrar, insert_registrar
from services.registry.registrars.model import (
    PHONE,
    REGISTRAR_ID,
    Address,
    Language,
    OfficialAddress,
    Profile,
    RegistrarStatus,
    Strict,
)
from services.registry.results import CommandRefused, Result
from services.registry.settings import RegistrySettings
from services.registry.store import APPLICATIONS, REGISTRARS, USERS, unit_of_work
from services.registry.uow import Reader, Tx
from services.registry.users.passwords import WeakPassword, check_policy, hash_password, verify_password
from shared.events import EventEnvelope, EventPayload, new_event
from shared.events.registrars import (
    RegistrarActivated,
    RegistrarActivationFailed,
    RegistrarApplicationRecorded,
    RegistrarContractSigned,
    SecurityCodeIssued,
    UserUpdated,
)
from shared.runtime import ServiceContext

CCTLD = "be"  # every other product is a gTLD, sold directly only by ICANN-accredited registrars
SECURITY_CODE_DIGITS = 12
MAX_ACTIVATION_ATTEMPTS = 5
# stored instead of a password hash until the activation: no password verifies against it
NO_PASSWORD = "!activation-pending"
# verified against when no code exists, so that an unknown registrar id answers as slowly as a wrong code
_NO_CODE = hash_password("000000000000")


class ApplicationStatus(StrEnum):
    APPLIED = "APPLIED"
    CONTRACT_SIGNED = "CONTRACT_SIGNED"
    PREPAYMENT_RECEIVED = "PREPAYMENT_RECEIVED"
    ACTIVATED = "ACTIVATED"


# -- what the operator records -----------------------------------------------------------------------------

def _e164(value: object) -> object:
    """Accept the written form of the seed ('+32 497 11 11 11') and keep E.164 as +CC.NUMBER."""
    if isinstance(value, str):
        match = re.fullmatch(r"\+([0-9]{1,3})[ .]([0-9][0-9 .]*)", value.strip())
        if match:
            return f"+{match[1]}.{re.sub(r'[ .]', '', match[2])}"
    return value


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _digits(value: object) -> object:
    # a letter prints the code in groups: '1234 5678 9012'
    return re.sub(r"[ \-]", "", value) if isinstance(value, str) else value


E164 = Annotated[str, BeforeValidator(_e164), Field(pattern=PHONE, examples=["+32.16284970"])]
Product = Annotated[str, Field(pattern=r"^[a-z]{2,63}$", examples=["be"])]
ContractLanguage = Annotated[Language, BeforeValidator(_lower), Field(examples=["en"])]
Vat = Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$", examples=["BE0466158640"])]


class Representative(Strict):
    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)


class Organisation(Strict):
    """The organisation's details the sign-up e-mail carries."""

    official_name: str = Field(min_length=1, max_length=160)
    representative: Representative = Field(description="the person representing the organisation")
    address: Address = Field(description="street and number, postal code, city, province (optional), country")
    phone: E164 = Field(description="to contact the organisation if needed")
    mobile: E164 = Field(description="to validate the account")
    email: EmailStr
    website: HttpUrl
    vat: Vat


class IcannAccreditation(Strict):
    """The applicant's own ICANN accreditation: it registers the gTLDs it wants directly."""

    iana_id: int = Field(ge=1, le=9_999_999)
    agreement: str = Field(min_length=1, max_length=200, description="the attached Registrar Accreditation Agreement")


class Reseller(Strict):
    """A gTLD resold through a registrar of this registry that is accredited for it."""

    registrar_id: str = Field(pattern=REGISTRAR_ID.pattern, description="the accredited registrar")
    contract: str = Field(min_length=1, max_length=200, description="the attached contract with that registrar")


class Application(Strict):
    organisation: Organisation
    contract_language: ContractLanguage
    prepayment_cents: int = Field(gt=0, description="at least MINIMUM_PREPAYMENT_CENTS (EUR 2,500)")
    standing_order: bool = Field(default=False, description="only possible when .be is among the products")
    products: list[Product] = Field(min_length=1, examples=[["be", "vlaanderen"]])
    accreditation: IcannAccreditation | None = Field(default=None, description="needed for a gTLD not resold")
    resellers: dict[Product, Reseller] = Field(default_factory=dict, description="gTLD -> the registrar it resells")
    current_account: str | None = Field(default=None, max_length=32, description="a current .be account, if any")

    @field_validator("products")
    @classmethod
    def distinct(cls, v: list[str]) -> list[str]:
        return sorted(set(v))

    def direct_products(self) -> list[str]:
        """What the registrar will register in itself."""
        return [p for p in self.products if p not in self.resellers]

    def resold_products(self) -> dict[str, str]:
        return {gtld: r.registrar_id for gtld, r in sorted(self.resellers.items())}


class ContractSignature(Strict):
    registrar_id: str | None = Field(default=None, pattern=REGISTRAR_ID.pattern,
                                     description="the registrar id to give; by default the registry picks one")
    reference: str | None = Field(default=None, max_length=64, description="the e-signature agreement's reference")


class PrepaymentPaid(Strict):
    amount_cents: int = Field(gt=0)
    reference: str = Field(default_factory=lambda: f"pay-{secrets.token_hex(6)}", min_length=1, max_length=64)


class Activation(Strict):
    """What the registrar enters on the activation page: no login, the letter is the proof."""

    registrar_id: str = Field(pattern=REGISTRAR_ID.pattern)
    security_code: Annotated[str, BeforeValidator(_digits), Field(pattern=rf"^[0-9]{{{SECURITY_CODE_DIGITS}}}$")]
    web_password: SecretStr = Field(description="the administrator user's password (the user id is the registrar id)")
    epp_password: SecretStr


class StepDone(BaseModel):
    application_id: str
    status: ApplicationStatus
    registrar_id: str | None = None
    security_code: str | None = Field(default=None, description="only when one is issued: shown once, for the "
                                                                "letter; the registry keeps only its hash")
    balance_cents: int | None = None


# -- the rules that need no database -----------------------------------------------------------------------

def check_application(application: Application, tlds: Iterable[str], minimum_cents: int) -> None:
    unknown = set(application.products) - set(tlds)
    if unknown:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"products {sorted(unknown)} are not served here")
    if application.prepayment_cents < minimum_cents:
        raise CommandRefused(Result.PARAMETER_VALUE_RANGE, f"the prepayment is at least {_euro(minimum_cents)}")
    if application.standing_order and CCTLD not in application.products:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"a standing order is only possible for .{CCTLD}")
    stray = set(application.resellers) - (set(application.products) - {CCTLD})
    if stray:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                             f"reselling is for the gTLDs applied for, not {sorted(stray)}")
    unaccredited = [p for p in application.direct_products() if p != CCTLD]
    if unaccredited and application.accreditation is None:
        raise CommandRefused(
            Result.PARAMETER_VALUE_POLICY,
            f"only ICANN-accredited registrars offer {', '.join('.' + p for p in unaccredited)} directly: give the "
            "IANA id and accreditation agreement, or the accredited registrar it is resold through",
        )


def check_prepayment(amount_cents: int, applied_cents: int, minimum_cents: int) -> None:
    due = max(applied_cents, minimum_cents)
    if amount_cents < due:
        raise CommandRefused(Result.PARAMETER_VALUE_RANGE,
                             f"the prepayment received ({_euro(amount_cents)}) is less than the {_euro(due)} due")


def require_status(application_id: str, current: str, allowed: set[ApplicationStatus], step: str) -> None:
    if current not in allowed:
        needed = " or ".join(sorted(allowed))
        raise CommandRefused(Result.STATUS_PROHIBITS,
                             f"cannot {step}: application [{application_id}] is {current}, not {needed}")


def require_status_change(registrar_id: str, current: str, wanted: RegistrarStatus) -> None:
    """An operator suspends an active registrar or lifts the suspension; a pending registrar becomes active
    only by its own activation (the letter's security code sets its passwords), and no registrar is put
    back to pending."""
    if wanted is RegistrarStatus.PENDING_ACTIVATION and current != RegistrarStatus.PENDING_ACTIVATION:
        raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                             f"registrar [{registrar_id}] is {current}: a registrar is never put back to pending")
    if current == RegistrarStatus.PENDING_ACTIVATION and wanted is RegistrarStatus.ACTIVE:
        raise CommandRefused(Result.STATUS_PROHIBITS, f"registrar [{registrar_id}] is PENDING_ACTIVATION: it "
                             "becomes ACTIVE only by its activation with the security code of its letter")


def new_security_code() -> str:
    return f"{secrets.randbelow(10**SECURITY_CODE_DIGITS):0{SECURITY_CODE_DIGITS}d}"


def activation_locked(failed_attempts: int) -> CommandRefused | None:
    if failed_attempts >= MAX_ACTIVATION_ATTEMPTS:
        return CommandRefused(Result.AUTHORIZATION_ERROR,
                              f"activation is locked after {MAX_ACTIVATION_ATTEMPTS} wrong security codes: "
                              "ask the registry for a new security code")
    return None


def wrong_code(failed_before: int) -> tuple[int, CommandRefused]:
    """One more wrong code: the new count and the refusal to give (locked when no attempt is left)."""
    failed = failed_before + 1
    left = MAX_ACTIVATION_ATTEMPTS - failed
    if left <= 0:
        return failed, CommandRefused(Result.AUTHORIZATION_ERROR,
                                      "wrong security code: activation is now locked, ask the registry for a new code")
    return failed, CommandRefused(Result.INVALID_AUTHORIZATION_INFO,
                                  f"wrong registrar id or security code ({left} attempt(s) left)")


def organisation_lines(name: str) -> list[str]:
    """A profile holds the organisation in 2 lines of 80 characters."""
    lines = textwrap.wrap(name, 80)
    return lines if len(lines) <= 2 else [name[:80], name[80:160]]


def _euro(cents: int) -> str:
    return f"EUR {cents / 100:,.2f}"


class _ApplicantRegistrar(NewRegistrar):
    # a pure reseller registers in no product itself
    products: list[str] = Field(default_factory=list)


def registrar_for(registrar_id: str, application: Application) -> NewRegistrar:
    """The account the signed contract creates. Its passwords are random placeholders, replaced by
    NO_PASSWORD at once: the registrar chooses its own at the activation."""
    org = application.organisation
    lines = organisation_lines(org.official_name)
    return _ApplicantRegistrar(
        registrar_id=registrar_id,
        name=org.official_name,
        profile=Profile(organisation=lines, address=org.address, phone=org.phone, website=org.website,
                        email=org.email, languages=[application.contract_language], automated_email=org.email),
        official_address=OfficialAddress(organisation=lines, address=org.address, phone=org.phone, email=org.email),
        products=application.direct_products(),
        vat=org.vat,
        contract_language=application.contract_language,
        standing_order=application.standing_order,
        admin_password=SecretStr(f"Aa1{secrets.token_urlsafe(18)}"),  # within the policy's 32 characters
        epp_password=SecretStr(f"Aa1{secrets.token_hex(6)}"),  # and 16 for EPP
    )


# -- the steps ----------------------------------------------------------------------------------------------

def _settings(ctx: ServiceContext) -> RegistrySettings:
    return ctx.settings  # type: ignore[return-value]


def _event(ctx: ServiceContext, payload: EventPayload, registrar_id: str | None,
           correlation_id: str) -> EventEnvelope[Any]:
    return new_event(payload, registrar_id=registrar_id, correlation_id=correlation_id, clock=ctx.clock)


async def _application(tx: Reader, application_id: str) -> dict[str, Any]:
    doc = await tx[APPLICATIONS].find_one({"_id": application_id})
    if doc is None:
        raise CommandRefused(Result.OBJECT_DOES_NOT_EXIST, f"Object does not exist: application [{application_id}]")
    return doc


async def _move(tx: Tx, doc: dict[str, Any], to: ApplicationStatus,
                changes: dict[str, Any]) -> None:
    """Change the status only from the one just read: a concurrent step finds it changed and is refused."""
    matched = await tx[APPLICATIONS].update_one(
        {"_id": doc["_id"], "status": doc["status"]}, {"$set": {"status": to.value, **changes}})
    if matched != 1:
        raise CommandRefused(Result.STATUS_PROHIBITS, f"application [{doc['_id']}] changed meanwhile: look again")


async def _check_resellers(tx: Reader, application: Application) -> None:
    for gtld, reseller in sorted(application.resellers.items()):
        doc = await tx[REGISTRARS].find_one({"_id": reseller.registrar_id}, {"status": 1, "products": 1})
        if doc is None or doc["status"] != RegistrarStatus.ACTIVE or gtld not in doc.get("products", []):
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY,
                                 f"registrar [{reseller.registrar_id}] is not an active registrar accredited for "
                                 f".{gtld}: .{gtld} cannot be resold through it")


async def _free_registrar_id(tx: Reader) -> str:
    for _ in range(20):
        candidate = f"r{secrets.randbelow(10**6):06d}"
        taken = await tx[REGISTRARS].find_one({"_id": candidate}, {"_id": 1}) or \
            await tx[USERS].find_one({"_id": candidate}, {"_id": 1})
        if not taken:
            return candidate
    raise CommandRefused(Result.COMMAND_FAILED, "no free registrar id found: try again or give one")


async def record_application(ctx: ServiceContext, application: Application, correlation_id: str) -> StepDone:
    settings = _settings(ctx)
    check_application(application, settings.tlds, settings.minimum_prepayment_cents)
    application_id = f"app-{secrets.token_hex(6)}"
    doc = {"_id": application_id, "status": ApplicationStatus.APPLIED.value,
           "application": application.model_dump(mode="json"), "created_at": ctx.clock.now()}

    async def work(tx: Tx) -> None:
        await _check_resellers(tx, application)
        await tx[APPLICATIONS].insert_one(dict(doc))
        org = application.organisation
        tx.publish([_event(ctx, RegistrarApplicationRecorded(
            application_id=application_id, name=org.official_name, email=str(org.email),
            products=application.direct_products(), resold_products=application.resold_products(),
            contract_language=application.contract_language.value, prepayment_cents=application.prepayment_cents,
            standing_order=application.standing_order), None, correlation_id)])

    await unit_of_work(ctx).run(work)
    return StepDone(application_id=application_id, status=ApplicationStatus.APPLIED)


async def sign_contract(ctx: ServiceContext, application_id: str, signature: ContractSignature,
                        correlation_id: str) -> StepDone:
    """The contract is signed: the account exists from now on, waiting for its prepayment and activation."""
    code = new_security_code()
    code_hash = hash_password(code)  # outside the transaction: it takes a while, and a retry needs no new one
    done: dict[str, str] = {}

    async def work(tx: Tx) -> None:
        doc = await _application(tx, application_id)
        require_status(application_id, doc["status"], {ApplicationStatus.APPLIED}, "record the contract signature")
        application = Application.model_validate(doc["application"])
        await _check_resellers(tx, application)  # the registrar resold through may have changed since
        registrar_id = signature.registrar_id or await _free_registrar_id(tx)
        events = await insert_registrar(ctx, tx, registrar_for(registrar_id, application),
                                        RegistrarStatus.PENDING_ACTIVATION, correlation_id)
        extra: dict[str, Any] = {"epp_password_hash": NO_PASSWORD, "resold_products": application.resold_products(),
                                 "application_id": application_id}
        if application.accreditation is not None:
            extra["iana_id"] = application.accreditation.iana_id
        await tx[REGISTRARS].update_one({"_id": registrar_id}, {"$set": extra})
        await tx[USERS].update_one({"_id": registrar_id}, {"$set": {"password_hash": NO_PASSWORD}})
        now = ctx.clock.now()
        await _move(tx, doc, ApplicationStatus.CONTRACT_SIGNED, {
            "registrar_id": registrar_id,
            "contract": {"signed_at": now, "reference": signature.reference},
            "security_code": {"hash": code_hash, "issued_at": now, "failed_attempts": 0},
        })
        done["registrar_id"] = registrar_id
        signed = RegistrarContractSigned(application_id=application_id, contract_reference=signature.reference)
        tx.publish([*events, _event(ctx, signed, registrar_id, correlation_id),
                    _event(ctx, SecurityCodeIssued(application_id=application_id), registrar_id, correlation_id)])

    await unit_of_work(ctx).run(work)
    return StepDone(application_id=application_id, status=ApplicationStatus.CONTRACT_SIGNED,
                    registrar_id=done["registrar_id"], security_code=code)


async def record_prepayment(ctx: ServiceContext, application_id: str, payment: PrepaymentPaid,
                            correlation_id: str) -> StepDone:
    settings = _settings(ctx)
    done: dict[str, Any] = {}

    async def work(tx: Tx) -> None:
        doc = await _application(tx, application_id)
        require_status(application_id, doc["status"], {ApplicationStatus.CONTRACT_SIGNED}, "record the prepayment")
        applied = doc["application"]["prepayment_cents"]
        check_prepayment(payment.amount_cents, applied, settings.minimum_prepayment_cents)
        events = await money.book_prepayment(ctx, tx, doc["registrar_id"], payment.amount_cents,
                                             payment.reference, correlation_id)
        await _move(tx, doc, ApplicationStatus.PREPAYMENT_RECEIVED, {"prepayment": {
            "amount_cents": payment.amount_cents, "reference": payment.reference, "received_at": ctx.clock.now()}})
        done.update(registrar_id=doc["registrar_id"], balance_cents=events[-1].payload.balance_cents)
        tx.publish(events)

    await unit_of_work(ctx).run(work)
    return StepDone(application_id=application_id, status=ApplicationStatus.PREPAYMENT_RECEIVED, **done)


async def reissue_security_code(ctx: ServiceContext, application_id: str, correlation_id: str) -> StepDone:
    """A new code (the letter got lost, or the activation is locked): the old one stops working."""
    code = new_security_code()
    code_hash = hash_password(code)
    done: dict[str, Any] = {}

    async def work(tx: Tx) -> None:
        doc = await _application(tx, application_id)
        waiting = {ApplicationStatus.CONTRACT_SIGNED, ApplicationStatus.PREPAYMENT_RECEIVED}
        require_status(application_id, doc["status"], waiting, "issue a security code")
        await _move(tx, doc, ApplicationStatus(doc["status"]), {
            "security_code": {"hash": code_hash, "issued_at": ctx.clock.now(), "failed_attempts": 0}})
        done.update(registrar_id=doc["registrar_id"], status=doc["status"])
        tx.publish([_event(ctx, SecurityCodeIssued(application_id=application_id, reissued=True),
                           doc["registrar_id"], correlation_id)])

    await unit_of_work(ctx).run(work)
    return StepDone(application_id=application_id, security_code=code, **done)


async def activate(ctx: ServiceContext, activation: Activation, correlation_id: str) -> StepDone:
    """The registrar activates its account: right code, contract signed, prepayment received."""
    registrar_id = activation.registrar_id
    web, epp = activation.web_password.get_secret_value(), activation.epp_password.get_secret_value()
    # the policy first: a weak password costs no attempt
    for what, password, longest in (("web password", web, 32), ("EPP password", epp, 16)):
        try:
            check_policy(password, max_length=longest)
        except WeakPassword as exc:
            raise CommandRefused(Result.PARAMETER_VALUE_POLICY, f"{what}: {exc}") from exc
    web_hash, epp_hash = hash_password(web), hash_password(epp)
    refused: list[CommandRefused] = []
    done: dict[str, Any] = {}

    async def work(tx: Tx) -> None:
        refused.clear()  # the transaction may run again
        doc = await tx[APPLICATIONS].find_one({"registrar_id": registrar_id})
        if doc is not None and doc["status"] == ApplicationStatus.ACTIVATED:
            raise CommandRefused(Result.STATUS_PROHIBITS, f"registrar [{registrar_id}] is already activated")
        code = (doc or {}).get("security_code")
        if doc is None or code is None:
            verify_password(_NO_CODE, activation.security_code)
            raise CommandRefused(Result.INVALID_AUTHORIZATION_INFO, "wrong registrar id or security code")
        locked = activation_locked(code["failed_attempts"])
        if locked:
            raise locked
        if not verify_password(code["hash"], activation.security_code):
            failed, refusal = wrong_code(code["failed_attempts"])
            # counted against the code just checked: a code reissued meanwhile starts afresh
            await tx[APPLICATIONS].update_one({"_id": doc["_id"], "security_code.hash": code["hash"]},
                                              {"$inc": {"security_code.failed_attempts": 1}})
            refused.append(refusal)
            # committed although the activation is refused: the count must survive the refusal
            tx.publish([_event(ctx, RegistrarActivationFailed(failed_attempts=failed,
                                                              locked=failed >= MAX_ACTIVATION_ATTEMPTS),
                               registrar_id, correlation_id)])
            return
        require_status(doc["_id"], doc["status"], {ApplicationStatus.PREPAYMENT_RECEIVED},
                       "activate before the prepayment is received")
        registrar = await tx[REGISTRARS].find_one({"_id": registrar_id}, {"status": 1, "products": 1})
        if registrar is None or registrar["status"] != RegistrarStatus.PENDING_ACTIVATION:
            status = registrar["status"] if registrar else "gone"
            raise CommandRefused(Result.STATUS_PROHIBITS, f"registrar [{registrar_id}] is {status}: ask the registry")
        now = ctx.clock.now()
        await tx[REGISTRARS].update_one(
            {"_id": registrar_id},
            {"$set": {"status": RegistrarStatus.ACTIVE.value, "epp_password_hash": epp_hash, "activated_at": now}},
        )
        await tx[USERS].update_one({"_id": registrar_id}, {"$set": {"password_hash": web_hash}})
        await _move(tx, doc, ApplicationStatus.ACTIVATED, {"activated_at": now})
        await tx[APPLICATIONS].update_one({"_id": doc["_id"]}, {"$unset": {"security_code": ""}})
        done.update(application_id=doc["_id"])
        tx.publish([
            _event(ctx, RegistrarActivated(application_id=doc["_id"], products=registrar.get("products", [])),
                   registrar_id, correlation_id),
            _event(ctx, UserUpdated(user_id=registrar_id, change="password"), registrar_id, correlation_id),
            _event(ctx, UserUpdated(user_id=registrar_id, change="epp_password"), registrar_id, correlation_id),
        ])

    await unit_of_work(ctx).run(work)
    if refused:
        raise refused[-1]
    return StepDone(application_id=done["application_id"], status=ApplicationStatus.ACTIVATED,
                    registrar_id=registrar_id)


# -- what the operator looks at -----------------------------------------------------------------------------

def application_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Never the code's hash: only when it was issued and how many wrong codes were tried."""
    view = {"application_id": doc["_id"], **{k: v for k, v in doc.items() if k not in {"_id", "security_code"}}}
    code = doc.get("security_code")
    if code:
        view["security_code"] = {"issued_at": code["issued_at"], "failed_attempts": code["failed_attempts"],
                                 "locked": code["failed_attempts"] >= MAX_ACTIVATION_ATTEMPTS}
    return view


async def get_application(ctx: ServiceContext, application_id: str) -> dict[str, Any]:
    return application_view(await _application(unit_of_work(ctx), application_id))


async def list_applications(ctx: ServiceContext, status: ApplicationStatus | None = None,
                            limit: int = 200) -> list[dict[str, Any]]:
    query = {"status": status.value} if status else {}
    docs = await unit_of_work(ctx)[APPLICATIONS].find(query).sort("created_at", -1).limit(limit).to_list()
    return [application_view(d) for d in docs]
