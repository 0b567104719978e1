"""The registrant's pages (public: the mailed verification link is the credential): the verification page (what
is asked and why, the eID button when a provider is configured, the document upload with its accepted types
and sizes, attempts left, what happens next, how to reach support), the eID return page and the outcome. In
nl, fr or en: the contact's language, unless the visitor chose another with the switch.

The pages are the verification service's registrant endpoints (/verify/...) in a browser: the console holds
nothing. The verification service puts this site's address in the mailed link (REGISTRANT_PAGES_URL)."""

from __future__ import annotations

from fastapi import FastAPI

from services.console.registrant import pages


def install(app: FastAPI) -> None:
    """Mount the registrant's pages on the console (app.py calls this)."""
    app.include_router(pages.router())
