"""The registry's command pages against the in-memory unit of work: each command's checks in order and the
events it commits, without a broker or a database (the integration tests run the same rules on the real ones;
tests/unit/uow_contract.py keeps the two units of work alike)."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.registry.commands import Actor
from services.registry.contacts.create import create_contact
from services.registry.contacts.delete import delete_contact
from services.registry.contacts.model import ContactType, NewContact
from services.registry.domains.create import create_domain
from services.registry.domains.delete import delete_domain, reactivate_domain, undelete_domain
from services.registry.domains.lifecycle import run_lifecycle
from services.registry.domains.locks import LockRequest, lock_domain
from services.registry.domains.model import HostAttr
from services.registry.domains.transfer import AUTO, TransferRequest, request_transfer_code, sealer, transfer_domain
from services.registry.domains.update import DomainChanges, change_domain
from services.registry.groups.delete import delete_group
from services.registry.groups.model import NS, NameServerGroup
from services.registry.groups.save import save_group
from services.registry.registrars import money
from services.registry.registrars.blocks import on_registrar_blocked
from services.registry.registrars.demo import seed_demo_registrar
from services.registry.registrars.epp_access import set_epp_password
from services.registry.registrars.operator import set_lock_function
from services.registry.registrars.profile import public_view
from services.registry.registrars.standing import STANDING_FIELDS, StandingCache, changed, shared_standing
from services.registry.results import CommandRefused, Result
from services.registry.settings import RegistrySettings
from services.registry.store import CONTACTS, DOMAINS, LEDGER, REGISTRARS, unique_keys
from services.registry.uow import Tx
from services.registry.uow.memory import InMemoryUnitOfWork
from services.registry.users.manage import create_user
from services.registry.users.model import Permission
from shared.clock import ManualClock
from shared.events import Channel, CommandFailed, EventEnvelope, new_event
from shared.events.contacts import ContactCreated
from shared.events.hitpoints import RegistrarBlocked
from shared.events.domains import DomainCreated, DomainQuarantined, DomainReactivated, DomainTransferred
from shared.events.money import PayingTransactionRecorded
from shared.observability.metrics import ServiceMetrics
from shared.runtime import ServiceContext

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
A, B = "a100001", "b200002"


class Registry:
    """A registry context whose commands run in memory, with two seeded registrars."""

    def __init__(self) -> None:
        self.settings = RegistrySettings(seed_demo_registrar=True, quarantine_days=40)
        self.clock = ManualClock(START)
        self.uow = InMemoryUnitOfWork(unique_keys())
        self.ctx = ServiceContext(settings=self.settings, clock=self.clock, metrics=ServiceMetrics("registry"),
                                  broker=None, topology=None, publisher=None, tracer_provider=None,  # type: ignore[arg-type]
                                  tracer=None, session_auth=None)  # type: ignore[arg-type]
        self.ctx.extras["uow"] = self.uow

    def actor(self, registrar_id: str = A, user_id: str | None = None,
              permissions: frozenset[Permission] = frozenset(Permission)) -> Actor:
        return Actor(registrar_id, user_id or registrar_id, Channel.WEB, "corr-1", permissions)

    def events(self, kind: type) -> list[Any]:
        return [e.payload for e in self.uow.published if isinstance(e.payload, kind)]

    async def domain(self, name: str) -> dict[str, Any] | None:
        return await self.uow[DOMAINS].find_one({"_id": name})

    async def balance(self, registrar_id: str = A) -> int:
        return int((await self.uow[REGISTRARS].find_one({"_id": registrar_id}) or {})["balance_cents"])

    async def refused(self, call: Any, code: Result) -> CommandRefused:
        """The command is refused with `code`, and the refusal was published (once) as command.failed."""
        failed_before = len(self.events(CommandFailed))
        with pytest.raises(CommandRefused) as refusal:
            await call
        assert refusal.value.result is code, refusal.value.message
        assert len(self.events(CommandFailed)) == failed_before + 1
        assert self.events(CommandFailed)[-1].result_code == int(code)
        return refusal.value


_SEEDED: dict[str, dict[Any, Any]] = {}


@pytest.fixture
async def registry() -> Registry:
    r = Registry()
    if not _SEEDED:  # seeded once (its Argon2 hashes take a while), copied for each test
        for registrar_id in (A, B):
            await seed_demo_registrar(r.ctx, r.settings, registrar_id)
        _SEEDED.update(copy.deepcopy(r.uow.collections))
    r.uow.collections = copy.deepcopy(_SEEDED)
    r.uow.published.clear()
    return r


async def test_create_commits_the_domain_its_debit_and_its_events_together(registry: Registry) -> None:
    before = await registry.balance()
    domain = await create_domain(registry.ctx, registry.actor(), "Page.BE", f"{A}-demo", [f"{A}-tech"],
                                 name_servers=[HostAttr(name="ns.page.be", addresses=["192.0.2.1"])])
    assert (domain.name, domain.expires_at) == ("page.be", datetime(2027, 3, 2, 10, 0, tzinfo=UTC))
    stored = await registry.domain("page.be")
    assert stored is not None and stored["contacts"] == [f"{A}-demo", f"{A}-tech"]
    assert await registry.balance() == before - registry.settings.prices["CREATE"]  # type: ignore[index]
    [created] = registry.events(DomainCreated)
    assert created.name == "page.be" and created.name_servers == ["ns.page.be"]
    assert [p.kind for p in registry.events(PayingTransactionRecorded)] == ["CREATE"]


async def test_create_refusals_change_nothing_and_are_published(registry: Registry) -> None:
    ctx, actor = registry.ctx, registry.actor()
    await create_domain(ctx, actor, "taken.be", f"{A}-demo")
    balance, events = await registry.balance(), len(registry.uow.published)
    await registry.refused(create_domain(ctx, actor, "taken.be", f"{A}-demo"), Result.OBJECT_EXISTS)
    await registry.refused(create_domain(ctx, actor, "x.be", f"{A}-demo"), Result.PARAMETER_VALUE_SYNTAX)
    await registry.refused(create_domain(ctx, actor, "glue.be", f"{A}-demo", name_servers=[HostAttr(name="ns.glue.be")]),
                           Result.PARAMETER_VALUE_SYNTAX)
    # another registrar's registrant is not this registrar's to use
    await registry.refused(create_domain(ctx, actor, "other.be", f"{B}-demo"), Result.OBJECT_DOES_NOT_EXIST)
    await registry.refused(create_domain(ctx, actor, "roles.be", f"{A}-tech"), Result.PARAMETER_VALUE_POLICY)
    assert await registry.balance() == balance
    assert await registry.domain("other.be") is None
    assert len(registry.uow.published) == events + 5  # only the five command.failed


async def test_a_first_domain_needs_the_billing_and_tech_contacts(registry: Registry) -> None:
    await registry.uow[CONTACTS].delete_many({"registrar_id": A, "type": {"$in": ["BILLING", "TECH"]}})
    await registry.refused(create_domain(registry.ctx, registry.actor(), "first.be", f"{A}-demo"),
                           Result.DATA_MANAGEMENT_POLICY)


async def test_a_blocked_registrar_is_refused_before_the_rules(registry: Registry) -> None:
    await registry.uow[REGISTRARS].update_one({"_id": A}, {"$set": {"blocked_until": START + timedelta(hours=1)}})
    refusal = await registry.refused(create_domain(registry.ctx, registry.actor(), "x.be", f"{A}-demo"),
                                     Result.DATA_MANAGEMENT_POLICY)
    assert refusal.cause == "registrar_blocked" and registry.events(CommandFailed)[-1].cause == "registrar_blocked"
    registry.clock.advance(timedelta(hours=2))
    await create_domain(registry.ctx, registry.actor(), "after.be", f"{A}-demo")


def blocked_for_an_hour(registry: Registry) -> EventEnvelope[RegistrarBlocked]:
    """Hitpoints' block of registrar A, as the registry's consumer receives it."""
    return new_event(RegistrarBlocked(blocked_until=START + timedelta(hours=1), exceeded_at=START, hitpoints=100,
                                      limit=100),
                     registrar_id=A, correlation_id=None, clock=registry.clock)


async def test_an_epp_session_reuses_its_standing_for_a_while_but_not_past_a_block_it_applied(
        registry: Registry) -> None:
    """EPP_STANDING_SECONDS: a session's commands reuse the standing it read; a block written behind this process's
    back (another replica) is seen once the copy is older than that; one this process applies, at once."""
    session = StandingCache(max_age=3600)
    actor = replace(registry.actor(), channel=Channel.EPP, standing=session)
    await create_domain(registry.ctx, actor, "first.be", f"{A}-demo")
    await registry.uow[REGISTRARS].update_one({"_id": A}, {"$set": {"blocked_until": START + timedelta(hours=1)}})
    await create_domain(registry.ctx, actor, "stale.be", f"{A}-demo")  # within the hour this session's copy is good
    refusal = await registry.refused(create_domain(registry.ctx, replace(actor, standing=StandingCache(0)), "x.be",
                                                   f"{A}-demo"), Result.DATA_MANAGEMENT_POLICY)
    assert refusal.cause == "registrar_blocked"  # a session without a copy reads the block
    blocked = blocked_for_an_hour(registry)
    await registry.uow.run(lambda tx: on_registrar_blocked(registry.ctx, blocked, tx))
    refusal = await registry.refused(create_domain(registry.ctx, actor, "y.be", f"{A}-demo"),
                                     Result.DATA_MANAGEMENT_POLICY)
    assert refusal.cause == "registrar_blocked"


async def test_a_standing_read_while_a_block_is_being_committed_is_not_kept_after_it(registry: Registry) -> None:
    """An EPP session that reads its standing after the block's handler ran but before the consumer's transaction
    committed gets the old one (unblocked); once the block committed, that copy must not be used again (it would
    be for EPP_STANDING_SECONDS)."""
    session = StandingCache(max_age=3600)
    actor = replace(registry.actor(), channel=Channel.EPP, standing=session)
    before = await registry.uow[REGISTRARS].find_one({"_id": A}, STANDING_FIELDS)  # what a read before the commit sees
    blocked = blocked_for_an_hour(registry)

    async def apply_while_a_session_reads(tx: Tx) -> None:
        await on_registrar_blocked(registry.ctx, blocked, tx)

        async def read_before_the_commit() -> dict[str, Any] | None:
            return before

        assert await session.get(registry.ctx, A, read_before_the_commit) is before

    await registry.uow.run(apply_while_a_session_reads)
    refusal = await registry.refused(create_domain(registry.ctx, actor, "y.be", f"{A}-demo"),
                                     Result.DATA_MANAGEMENT_POLICY)
    assert refusal.cause == "registrar_blocked"


async def test_web_requests_use_the_registrars_shared_copy_of_its_standing_but_not_past_a_block_it_applied(
        registry: Registry) -> None:
    """The web's requests and the registrar's EPP sessions here share one copy of its standing for
    EPP_STANDING_SECONDS (no read per request); a block this process applies is seen at once."""
    registry.ctx.settings = registry.settings.model_copy(update={"epp_standing_seconds": 3600})
    shared = shared_standing(registry.ctx, A)
    assert shared_standing(registry.ctx, A) is shared and shared_standing(registry.ctx, B) is not shared
    web = replace(registry.actor(), standing=shared)
    await create_domain(registry.ctx, web, "first.be", f"{A}-demo")
    await registry.uow[REGISTRARS].update_one({"_id": A}, {"$set": {"blocked_until": START + timedelta(hours=1)}})
    await create_domain(registry.ctx, web, "stale.be", f"{A}-demo")  # the copy is good for the hour
    blocked = blocked_for_an_hour(registry)
    await registry.uow.run(lambda tx: on_registrar_blocked(registry.ctx, blocked, tx))
    refusal = await registry.refused(create_domain(registry.ctx, web, "y.be", f"{A}-demo"),
                                     Result.DATA_MANAGEMENT_POLICY)
    assert refusal.cause == "registrar_blocked"


async def test_commands_that_find_the_standing_stale_at_once_wait_for_one_read(registry: Registry) -> None:
    copy_ = StandingCache(max_age=3600)
    reads, release = 0, asyncio.Event()

    async def read() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        await release.wait()
        return {"_id": A, "status": "ACTIVE"}

    waiting = [asyncio.create_task(copy_.get(registry.ctx, A, read)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    docs = await asyncio.gather(*waiting)
    assert reads == 1 and all(doc is docs[0] for doc in docs)
    await copy_.get(registry.ctx, A, read)
    assert reads == 1  # fresh: kept
    changed(registry.ctx, A)  # this process changed the standing: the copy and any read begun before are stale
    await copy_.get(registry.ctx, A, read)
    assert reads == 2
    # a reader cancelled mid-read does not cancel the read the others wait for
    changed(registry.ctx, A)
    release.clear()
    first = asyncio.create_task(copy_.get(registry.ctx, A, read))
    await asyncio.sleep(0)
    second = asyncio.create_task(copy_.get(registry.ctx, A, read))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    doc = await second
    assert doc is not None and doc["_id"] == A and reads == 3
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_copy_past_half_its_age_is_served_and_read_again_in_the_background(registry: Registry) -> None:
    """A registrar that keeps sending never waits for the standing read: the next copy is read before this expires."""
    copy_ = StandingCache(max_age=0.2)
    reads = 0

    async def read() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"_id": A, "status": "ACTIVE", "read": reads}

    async def read_count() -> int:
        doc = await copy_.get(registry.ctx, A, read)
        assert doc is not None
        return int(doc["read"])

    assert await read_count() == 1
    await asyncio.sleep(0.12)
    assert await read_count() == 1  # still good: served at once ...
    await asyncio.sleep(0.01)
    assert reads == 2 and await read_count() == 2  # ... and the next one read meanwhile


async def test_the_ledger_keeps_its_newest_lines_with_the_balance_and_moves_a_full_bucket(
        registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """A debit and its ledger line are one write on the registrar's document (a bounded bucket of the newest
    lines); the bucket's lines move to the ledger collection when it is full. Read together, nothing is missing,
    newest first, each with the balance after it."""
    monkeypatch.setattr(money, "OPEN_LINES", 3)
    price = registry.settings.prices["CREATE"]  # type: ignore[index]
    start = await registry.balance()
    for i in range(7):
        registry.clock.advance(timedelta(seconds=1))  # the collection's lines are read in time order
        await create_domain(registry.ctx, registry.actor(), f"l{i}.be", f"{A}-demo")
        if i == 3:
            registry.clock.advance(timedelta(seconds=1))
            await registry.uow.run(lambda tx: money.book_prepayment(registry.ctx, tx, A, 1000, "wire-1", "corr"))
    lines = await money.ledger(registry.ctx, A)
    assert [(line["kind"], line["object"]) for line in lines] == \
        [("CREATE", f"l{i}.be") for i in (6, 5, 4)] + [("PREPAYMENT", A)] + [("CREATE", f"l{i}.be") for i in (3, 2, 1, 0)]
    assert [line["balance_cents"] for line in lines] == \
        [start + 1000 - price * n for n in (7, 6, 5, 4)] + [start - price * n for n in (4, 3, 2, 1)]
    assert await registry.balance() == start + 1000 - 7 * price == lines[0]["balance_cents"]
    registrar = await registry.uow[REGISTRARS].find_one({"_id": A}) or {}
    bucket = registrar["ledger_open"]
    assert 1 <= len(bucket) <= 3
    assert "ledger_open" not in public_view(registrar)  # the account view: the lines only with the balance
    assert await registry.uow[LEDGER].count_documents({"registrar_id": A}) == 8 - len(bucket)
    assert [line["object"] for line in await money.ledger(registry.ctx, A, limit=2)] == ["l6.be", "l5.be"]


async def test_one_registrar_s_concurrent_creates_share_a_transaction_and_pay_as_if_one_after_the_other(
        registry: Registry) -> None:
    """Creates waiting for their registrar's turn commit together (registrars/batches.py), and each is paid or
    refused as it would be alone in that order: the balance may turn negative once, the creates after that are
    refused (2104) and change nothing; those before commit with their lines and events."""
    price: int = registry.settings.prices["CREATE"]  # type: ignore[index]
    await registry.uow[REGISTRARS].update_one({"_id": A}, {"$set": {"balance_cents": 2 * price + 100}})
    commits = registry.uow.commits
    names = [f"batch-{i}.be" for i in range(6)]
    outcomes = await asyncio.gather(*(create_domain(registry.ctx, registry.actor(), n, f"{A}-demo") for n in names),
                                    return_exceptions=True)
    paid = [n for n, o in zip(names, outcomes, strict=True) if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, CommandRefused)]
    assert paid == names[:3]
    assert [(r.result, r.cause) for r in refused] == [(Result.BILLING_FAILURE, "negative_balance")] * 3
    assert registry.uow.commits - commits == 1 + 3  # the three paid in one transaction; each refusal's command.failed
    assert await registry.balance() == 100 - price
    assert [p.balance_cents for p in registry.events(PayingTransactionRecorded)] == [price + 100, 100, 100 - price]
    assert [e.name for e in registry.events(DomainCreated)] == paid
    assert await registry.uow[DOMAINS].count_documents({"_id": {"$in": names[3:]}}) == 0
    assert [line["object"] for line in await money.ledger(registry.ctx, A)][:3] == paid[::-1]


async def test_a_taken_name_in_a_batch_refuses_that_create_only(registry: Registry) -> None:
    await create_domain(registry.ctx, registry.actor(), "taken.be", f"{A}-demo")
    before = await registry.balance()
    names = ["free-1.be", "taken.be", "free-2.be"]
    outcomes = await asyncio.gather(*(create_domain(registry.ctx, registry.actor(), n, f"{A}-demo") for n in names),
                                    return_exceptions=True)
    assert isinstance(outcomes[1], CommandRefused) and outcomes[1].result is Result.OBJECT_EXISTS
    assert [o.name for o in outcomes if not isinstance(o, BaseException)] == ["free-1.be", "free-2.be"]
    assert await registry.balance() == before - 2 * registry.settings.prices["CREATE"]  # type: ignore[index]
    assert [e.name for e in registry.events(DomainCreated)] == ["taken.be", "free-1.be", "free-2.be"]
    assert [e.object for e in registry.events(CommandFailed)] == ["taken.be"]


async def test_a_read_only_user_changes_nothing(registry: Registry) -> None:
    reader = registry.actor(user_id="reader", permissions=frozenset({Permission.MY_REGISTRATIONS}))
    refusal = await registry.refused(create_domain(registry.ctx, reader, "ro.be", f"{A}-demo"),
                                     Result.AUTHORIZATION_ERROR)
    assert refusal.cause == "permission"


async def test_delete_undelete_quarantine_and_reactivate(registry: Registry) -> None:
    ctx, actor = registry.ctx, registry.actor()
    await create_domain(ctx, actor, "cycle.be", f"{A}-demo")
    when = await delete_domain(ctx, actor, "cycle.be", START + timedelta(days=1))
    await registry.refused(delete_domain(ctx, actor, "cycle.be", None), Result.STATUS_PROHIBITS)  # scheduled
    assert await delete_domain(ctx, actor, "cycle.be", START, overwrite=True) == START != when
    await undelete_domain(ctx, actor, "cycle.be")
    await registry.refused(undelete_domain(ctx, actor, "cycle.be"), Result.STATUS_PROHIBITS)
    await registry.refused(reactivate_domain(ctx, actor, "cycle.be"), Result.STATUS_PROHIBITS)  # not quarantined
    await delete_domain(ctx, actor, "cycle.be", None)
    assert await run_lifecycle(ctx) == {"quarantined": 1, "released": 0, "locks_lifted": 0}
    assert registry.events(DomainQuarantined)[-1].available_on == START + timedelta(days=40)
    await registry.refused(change_domain(ctx, actor, "cycle.be", DomainChanges()), Result.STATUS_PROHIBITS)
    balance = await registry.balance()
    await reactivate_domain(ctx, actor, "cycle.be")
    assert await registry.balance() == balance - registry.settings.prices["REACTIVATION"]  # type: ignore[index]
    assert registry.events(DomainReactivated) and (await registry.domain("cycle.be") or {})["status"] == "REGISTERED"
    # 40 days in quarantine, then the name is free again
    await delete_domain(ctx, actor, "cycle.be", None)
    await run_lifecycle(ctx)
    registry.clock.advance(timedelta(days=40))
    assert (await run_lifecycle(ctx))["released"] == 1 and await registry.domain("cycle.be") is None


async def test_another_registrars_domain_cannot_be_changed(registry: Registry) -> None:
    await create_domain(registry.ctx, registry.actor(), "mine.be", f"{A}-demo")
    # another registrar's: not yours (2304); a name nobody holds: does not exist (2303)
    await registry.refused(delete_domain(registry.ctx, registry.actor(B), "mine.be", None), Result.STATUS_PROHIBITS)
    await registry.refused(delete_domain(registry.ctx, registry.actor(B), "nobody.be", None),
                           Result.OBJECT_DOES_NOT_EXIST)
    assert (await registry.domain("mine.be") or {}).get("delete_date") is None


async def test_a_lock_stops_the_transfer_code_and_its_withdrawal_lifts_the_locks(registry: Registry) -> None:
    ctx, actor = registry.ctx, registry.actor()
    await create_domain(ctx, actor, "locked.be", f"{A}-demo")
    await lock_domain(ctx, actor, "locked.be", LockRequest(registrant_request="ticket 42"))
    await registry.refused(lock_domain(ctx, actor, "locked.be", LockRequest(registrant_request="again")),
                           Result.STATUS_PROHIBITS)
    await registry.refused(request_transfer_code(ctx, registry.actor(B), "locked.be"), Result.DATA_MANAGEMENT_POLICY)
    await set_lock_function(ctx, A, False, "op-1")
    assert (await registry.domain("locked.be") or {})["statuses"] == []
    await registry.refused(lock_domain(ctx, actor, "locked.be", LockRequest(registrant_request="ticket 43")),
                           Result.AUTHORIZATION_ERROR)


async def test_an_auto_transfer_announces_the_copied_registrant_first(registry: Registry) -> None:
    ctx = registry.ctx
    await create_domain(ctx, registry.actor(), "moving.be", f"{A}-demo")
    await request_transfer_code(ctx, registry.actor(B), "moving.be")
    sealed = (await registry.domain("moving.be") or {})["transfer_code"]["sealed"]
    code = sealer(ctx).open(sealed)
    await registry.refused(transfer_domain(ctx, registry.actor(B), "moving.be", TransferRequest(
        transfer_code="000-000-000-000-000", registrant=AUTO)), Result.INVALID_AUTHORIZATION_INFO)
    done = await transfer_domain(ctx, registry.actor(B), "moving.be", TransferRequest(transfer_code=code,
                                                                                      registrant=AUTO))
    assert (done["registrar_id"], done["losing_registrar_id"]) == (B, A)
    kinds = [type(e.payload) for e in registry.uow.published]
    assert kinds.index(ContactCreated) < kinds.index(DomainTransferred)
    copy = registry.events(ContactCreated)[-1]
    assert copy.alias == done["registrant"] != f"{A}-demo"
    assert "transfer_code" not in (await registry.domain("moving.be") or {})  # the code is spent


async def test_contacts_and_groups_still_linked_stay(registry: Registry) -> None:
    ctx, actor = registry.ctx, registry.actor()
    await create_contact(ctx, actor, NewContact(alias="tech-two", type=ContactType.TECH, name="T", street=["S 1"],
                                                city="Gent", postal_code="9000", country="BE", phone="+32.9000000",
                                                email="t@example.be"))
    await save_group(ctx, actor, NS, NameServerGroup(name="mygroup", name_servers=["ns1.example.com"]), create=True)
    await registry.refused(save_group(ctx, actor, NS, NameServerGroup(name="mygroup", name_servers=["ns2.example.com"]),
                                      create=True), Result.OBJECT_EXISTS)
    # names are per registrar: another may use the same one
    await save_group(ctx, registry.actor(B), NS, NameServerGroup(name="mygroup", name_servers=["ns.b.com"]),
                     create=True)
    await create_domain(ctx, actor, "linked.be", f"{A}-demo", ["tech-two"], nsgroups=["mygroup"])
    await registry.refused(delete_contact(ctx, actor, "tech-two"), Result.ASSOCIATION_PROHIBITS)
    await registry.refused(delete_group(ctx, actor, NS, "mygroup"), Result.ASSOCIATION_PROHIBITS)
    await registry.refused(delete_contact(ctx, actor, f"{A}-bill"), Result.STATUS_PROHIBITS)
    await change_domain(ctx, actor, "linked.be", DomainChanges(rem_contacts=(("tech", "tech-two"),),
                                                                rem_nsgroups=("mygroup",)))
    await delete_contact(ctx, actor, "tech-two")
    await delete_group(ctx, actor, NS, "mygroup")


async def test_only_the_administrator_creates_users_and_the_epp_password_follows_the_policy(
        registry: Registry) -> None:
    await create_user(registry.ctx, registry.actor(), "clerk", "Clerk-Pass-1", {Permission.MY_REGISTRATIONS})
    clerk = registry.actor(user_id="clerk", permissions=frozenset({Permission.MY_REGISTRATIONS}))
    await registry.refused(create_user(registry.ctx, clerk, "other", "Other-Pass-1", set()),
                           Result.AUTHORIZATION_ERROR)
    with pytest.raises(CommandRefused) as weak:
        await set_epp_password(registry.ctx, A, A, "short", None)
    assert weak.value.result is Result.PARAMETER_VALUE_POLICY
