"""What the quarterly report counts of email.bounced (digest 6.1, seed 003: "the number of bounced registrant
emails"): pure rules.

- Hard bounces of registrant mails only. Notifications' catalogue keys the mails to registrants
  `registrant.*` (verification link, transfer code …); bounces of mail to the registrar itself are the
  registrar's own address, not its registrants' data. A bounce reported without its mail ("unknown") is
  not counted: nothing says it was a registrant's.
- The most frequent errors are keyed by the SMTP reply code and the enhanced status code, never by the
  server's text (free text would make every bounce a key of its own).
- Recurring: the same address bounced again between RECURRING_BOUNCE_MIN_DAYS and _MAX_DAYS after its
  previous bounce.
"""

from __future__ import annotations

from datetime import datetime

from shared.events.notifications import EmailBounced

REGISTRANT_MAILS = "registrant."  # notifications' catalogue: registrant.verification_required, …


def counts(bounce: EmailBounced) -> bool:
    return bounce.permanent and bounce.audience == "registrant" and bounce.message_type.startswith(REGISTRANT_MAILS)


def error_key(bounce: EmailBounced) -> str:
    """'550 5.1.1', '550' or '5.1.1'; 'unknown' when the bounce gave neither."""
    return " ".join(str(c) for c in (bounce.smtp_code, bounce.detailed_code) if c) or "unknown"


def address(bounce: EmailBounced) -> str:
    return bounce.recipient.strip().lower()


def recurring(previous: datetime | None, at: datetime, days: tuple[int, int]) -> bool:
    if previous is None:
        return False
    elapsed = (at - previous).total_seconds() / 86400
    return days[0] <= elapsed <= days[1]
