"""The version of the event contract (the catalogue as a whole), semantic: a breaking change (a removed or
renamed field, a changed type, a removed event type) needs a new major version; `python -m
shared.events.compat` compares the catalogue with the last released AsyncAPI (contracts/).

1.1.0 added domain.hold_changed and domain.service_changed (on hold, out of service: digest 4.1)."""

CONTRACT_VERSION = "1.1.0"
