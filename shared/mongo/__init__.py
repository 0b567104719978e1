"""MongoDB access through PyMongo's async API: client, indexes, transactions, outbox, idempotency."""
