"""`python -m shared.events`: print the event catalogue (types, versions, producers, JSON schemas)."""

import json

from shared.events.catalogue import describe

print(json.dumps(describe(), indent=2))
