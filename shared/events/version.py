"""The version of the event contract (the catalogue as a whole), semantic: a breaking change (a removed or
renamed field, a changed type, a removed event type) needs a new major version; `python -m
shared.events.compat` compares the catalogue with the last released AsyncAPI (contracts/)."""

CONTRACT_VERSION = "1.0.0"
