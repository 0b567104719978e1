"""`python -m shared.events`: print the event catalogue as AsyncAPI 3.0 (`catalogue`: types, versions,
producers and JSON schemas as a plain list; `version`: the contract version)."""

import json
import sys

from shared.events.asyncapi import document
from shared.events.catalogue import describe
from shared.events.version import CONTRACT_VERSION

what = sys.argv[1] if len(sys.argv) > 1 else "asyncapi"
if what == "version":
    print(CONTRACT_VERSION)
elif what == "catalogue":
    print(json.dumps(describe(), indent=2))
elif what == "asyncapi":
    print(json.dumps(document(), indent=2, sort_keys=True))
else:
    sys.exit("usage: python -m shared.events [asyncapi|catalogue|version]")
