"""The notifications service process: wiring only. The handlers translate events into calls on the
Notifications application (service.py); the rules are in triggers.py, routing.py and cps.py."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications import __doc__ as DESCRIPTION
from services.notifications import api
from services.notifications.delivery import start_dispatcher, stop_dispatcher
from services.notifications.jobs import start_jobs, start_settlement, stop_jobs, stop_settlement
from services.notifications.poll_responder import start_poll_responder, stop_poll_responder
from services.notifications.service import notifications_of
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NOTIFICATIONS_INDEXES
from services.notifications.triggers import TRIGGERS
from shared.audit import AUDIT_INDEXES
from shared.clock import Clock, SystemClock
from shared.events import CATALOGUE
from shared.events.contacts import ContactCreated, ContactDeleted, ContactUpdated
from shared.events.notifications import EmailBounced
from shared.events.registrars import RegistrarCreated, RegistrarUpdated
from shared.messaging.consumer import Handlers
from shared.mongo.idempotency import BatchHandler
from shared.runtime import ServiceContext, ServiceSpec, create_app


def handlers(ctx: ServiceContext) -> Handlers:
    app = notifications_of(ctx)
    # a run of consecutive events is applied with one read of the registrars and bulk writes
    triggered = BatchHandler(app.apply_events)
    return {event: triggered for event in TRIGGERS} | {
        RegistrarCreated: app.on_registrar_created,
        RegistrarUpdated: app.on_registrar_updated,
        ContactCreated: app.on_contact_changed,
        ContactUpdated: app.on_contact_changed,
        ContactDeleted: app.on_contact_deleted,
        EmailBounced: app.on_email_bounced,
    }


def build(settings: NotificationsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    app = create_app(
        ServiceSpec(
            name="notifications",
            settings=settings,
            description=DESCRIPTION,
            publishes=tuple(model for model in CATALOGUE.values() if model.producer == "notifications"),
            handlers=handlers,
            indexes=(*NOTIFICATIONS_INDEXES, *AUDIT_INDEXES),
            routers=(api.router,),
            # the EPP poll request/reply consumer last, once its acks can be settled; stopped first
            on_startup=(start_dispatcher, start_jobs, start_settlement, start_poll_responder),
            on_shutdown=(stop_poll_responder, stop_settlement, stop_dispatcher, stop_jobs),
            clock=clock or SystemClock(),
            verifies_sessions=True,
        )
    )
    return app
