"""Hitpoints: counts each registrar's faulty commands and blocks it at its limit.

Consumes command.failed (scores it) and the domain events that make up the portfolio (the limit);
publishes hitpoints.threshold_reached (80 %, 100 %), registrar.blocked and registrar.unblocked. Serves the
registrar's hitpoints screen and self-unblock, and the operators' unblock and jobs."""
