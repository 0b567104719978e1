"""Prepayment events (published by the registry)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.events.envelope import EventPayload


class TransactionKind(StrEnum):
    """Paying transactions and their ledger kinds."""

    CREATE = "CREATE"
    RENEWAL = "RENEWAL"
    TRANSFER = "TRANSFER"
    REACTIVATION = "REACTIVATION"
    TRANSFER_FROM_QUARANTINE = "TRANSFER_FROM_QUARANTINE"


class PayingTransactionRecorded(EventPayload):
    """A paying transaction was priced and debited from the registrar's prepayment (amounts in euro cents)."""

    event_type = "payment.transaction_recorded"
    producer = "registry"

    kind: TransactionKind
    object: str
    amount_cents: int = Field(description="the price debited, positive")
    balance_cents: int = Field(description="the balance after the debit; may be negative")
    reference: str


class PrepaymentReceived(EventPayload):
    """An operator booked a prepayment (a payment received) on the registrar's account."""

    event_type = "payment.prepayment_received"
    producer = "registry"

    amount_cents: int = Field(gt=0)
    balance_cents: int
    reference: str


class WatermarkReached(EventPayload):
    """The available balance fell below a watermark level (WATERMARK / REACHED in the notification catalogue)."""

    event_type = "payment.watermark_reached"
    producer = "registry"

    level_cents: int
    balance_cents: int
