"""The registry staff's pages (operators and support) under /staff: sign in with the 2-step code, applications
and onboarding steps, registrars, domains' server statuses, lock complaints, hitpoints, the verification review
queue, support notices, staff accounts and the audit trail. Every page calls the services' staff endpoints with
the staff member's own token, so each action is audited under their name (shared/staff.py)."""

from __future__ import annotations

from fastapi import FastAPI

from services.console.staff import access, audit, onboarding, registrars, support


def install(app: FastAPI) -> None:
    """Mount the staff pages on the console (app.py calls this)."""
    access.install(app)
    for module in (access, registrars, onboarding, support, audit):
        app.include_router(module.router())
