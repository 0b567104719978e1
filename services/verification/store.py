"""The verification database: what each collection holds and its indexes.

  contacts       the read model of registrant contacts (contact.created / contact.updated): their data,
                 registrar_id, created_at, status (ContactStatus) and case_id (the open or last case)
  registrations  one per domain.created decided: _id "<domain>@<at>", domain, contact, registrar_id, at, total,
                 flagged, selected (the input of the burst rule and the audit of each decision)
  waiting        domain.created events whose registrant contact had not arrived yet: scored when it does
  cases          one per selection: status (CaseStatus), contact, registrar_id, domains, attempts, allowed,
                 token_digest, sealed_link, token_expires_at, deadline, history, subject_digest ...
  documents      uploaded proof (binary), with case_id, filename, content_type, size; deleted
                 DOCUMENT_RETENTION_DAYS after the case closed (the case then has documents_deleted_at)
  individuals    verifications counted per individual (keyed digest of the eID subject or document id), cap
  registrars     the "verification at registrar" switch: {_id, verifies_itself}
  support_notices what support must look at (a verified contact was updated, attempts exhausted, cap reached)
  jobs           the leased periodic job
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from shared.mongo.indexes import CollectionIndexes

CONTACTS = "contacts"
REGISTRATIONS = "registrations"
WAITING = "waiting"
CASES = "cases"
DOCUMENTS = "documents"
INDIVIDUALS = "individuals"
REGISTRARS = "registrars"
NOTICES = "support_notices"

VERIFICATION_INDEXES = (
    CollectionIndexes(CONTACTS, (IndexModel([("status", ASCENDING)]),)),
    CollectionIndexes(REGISTRATIONS, (IndexModel([("contact", ASCENDING), ("at", ASCENDING)]),)),
    CollectionIndexes(WAITING, (IndexModel([("contact", ASCENDING)]),)),
    CollectionIndexes(CASES, (
        IndexModel([("token_digest", ASCENDING)], unique=True, sparse=True),
        IndexModel([("eid_state", ASCENDING)], sparse=True),
        IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)]),
        IndexModel([("contact", ASCENDING), ("opened_at", ASCENDING)]),
        # the retention job: closed cases whose documents are still kept
        IndexModel([("closed_at", ASCENDING)], sparse=True),
    )),
    CollectionIndexes(DOCUMENTS, (IndexModel([("case_id", ASCENDING)]),)),
    CollectionIndexes(INDIVIDUALS, ()),
    CollectionIndexes(REGISTRARS, ()),
    CollectionIndexes(NOTICES, (IndexModel([("at", ASCENDING)]),)),
)
