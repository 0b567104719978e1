"""Registry: the system of record. Executes registrars' commands and publishes an event for each change."""
