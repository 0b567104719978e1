import json
import os

from shared.messaging.access import DEFAULT_PUBLISHERS

# tests log as text; a run never touches the exchanges, queues or databases of a `make run` platform
os.environ.setdefault("LOG_FORMAT", "text")
# the tests use development values (secrets, the eID simulator, local URLs) that production refuses
os.environ["ENVIRONMENT"] = "development"
# every registry a test starts (in-process or as a process) listens for EPP on a free port unless the test
# says otherwise: 7700 belongs to `make run`, and other test runs on the machine start registries too
os.environ.setdefault("EPP_PORT", "0")
# the tests share the local broker's guest user (make run and compose give each service its own, see
# shared/messaging/access.py): guest may publish every type here; the other users keep their defaults
os.environ.setdefault("EVENT_PUBLISHERS", json.dumps({**DEFAULT_PUBLISHERS, "guest": ["*"]}))
